"""Canonical JSON: byte-for-byte what holochain-rust's serde_json writes.

Every address in Holochain is the hash of a JSON text, so that text must be
exactly the one holochain-rust produces: compact, keys in insertion order,
non-ASCII emitted raw, control characters escaped the serde way, and floats
in ryu's shortest form (``1e21``, ``1.5e-7``, ``0.00001``, ``100.0``).

orjson already matches serde_json for everything but floats (orjson writes
``1e+21``), so the fast path is a single ``orjson.dumps``; values holding a
float, or an integer outside the 64-bit range that serde would have read as
an ``f64``, take a slower path that rewrites those numbers.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

__all__ = ["RawJson", "dumps", "dumps_bytes", "dumps_plain", "loads", "JSONDecodeError", "format_float"]

JSONDecodeError = orjson.JSONDecodeError

_U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)


class RawJson(str):
    """JSON text to be passed on exactly as it is (a WebAssembly zome's output)."""

    __slots__ = ()


def loads(data: str | bytes) -> Any:
    """Parse JSON text. Big integers become floats, as serde_json reads them."""
    if type(data) is RawJson:  # orjson takes exact str only
        data = str.__str__(data)
    return orjson.loads(data)


def dumps_bytes(value: Any) -> bytes:
    """Canonical compact JSON of ``value`` as UTF-8 bytes."""
    try:
        if not _needs_number_rewrite(value):
            return orjson.dumps(value)
    except RecursionError:
        raise ValueError("JSON value is nested too deeply") from None
    except orjson.JSONEncodeError as exc:  # pragma: no cover - defensive
        raise ValueError(str(exc)) from None
    return _dumps_slow(value).encode("utf-8")


def dumps(value: Any) -> str:
    """Canonical compact JSON of ``value`` as a ``str``."""
    return dumps_bytes(value).decode("utf-8")


def dumps_plain(value: Any) -> str:
    """:func:`dumps` of a value that cannot hold a number (strings, null, booleans, and lists
    and dicts of them, e.g. a chain header): skips the scan for numbers serde writes differently."""
    return orjson.dumps(value).decode("utf-8")


def _needs_number_rewrite(value: Any) -> bool:
    """True if ``value`` holds a float or an integer serde would read as f64."""
    t = type(value)
    if t is str or t is bool or value is None:
        return False
    if t is int:
        return not (_I64_MIN <= value <= _U64_MAX)
    if t is float:
        return True
    if t is dict:
        for v in value.values():
            if type(v) is not str and _needs_number_rewrite(v):
                return True
        return False
    if t is list or t is tuple:
        for v in value:
            if type(v) is not str and _needs_number_rewrite(v):
                return True
        return False
    if isinstance(value, int):
        return not (_I64_MIN <= int(value) <= _U64_MAX)
    return isinstance(value, float)


def _dumps_slow(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        out.append(orjson.dumps(value).decode())
    elif isinstance(value, int):
        if _I64_MIN <= value <= _U64_MAX:
            out.append(str(int(value)))
        else:
            out.append(format_float(float(value)))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(orjson.dumps(k).decode())
            out.append(":")
            _write(v, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_float(x: float) -> str:
    """Format a float the way serde_json (ryu) does.

    Python's ``repr`` already yields the shortest round-tripping digits, the
    same digits ryu picks; only the layout differs.  serde_json writes NaN and
    infinities as ``null``.
    """
    if math.isnan(x) or math.isinf(x):
        return "null"
    r = repr(x)
    sign = ""
    if r[0] == "-":
        sign, r = "-", r[1:]
    mantissa, _, exp_text = r.partition("e")
    exp = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # position of the decimal point relative to the start of ``digits``
    point = len(int_part) + exp - (len(int_part + frac_part) - len((int_part + frac_part).lstrip("0")))
    if not digits:
        return sign + "0.0"
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    k = point - length  # value = digits * 10**k
    kk = point
    if k >= 0 and kk <= 16:
        return sign + digits + "0" * k + ".0"
    if 0 < kk <= 16:
        return sign + digits[:kk] + "." + digits[kk:]
    if -5 < kk <= 0:
        return sign + "0." + "0" * (-kk) + digits
    e = kk - 1
    if length == 1:
        return f"{sign}{digits}e{e}"
    return f"{sign}{digits[0]}.{digits[1:]}e{e}"
