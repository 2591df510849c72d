"""Timestamps as holochain-rust writes them into headers, and the clock that makes them.

Nothing in core reads the wall clock by itself: whoever needs "now" is given
a :data:`Clock` (:func:`system_clock` in production, :func:`stepping_clock`
under test), so the rules that stamp headers and order them are deterministic
when the test wants them to be.

chrono's ``to_rfc3339()`` on a UTC time: ``+00:00`` (never ``Z``), and the
fraction omitted when the nanoseconds are zero, else 3, 6 or 9 digits,
whichever is the shortest exact form.  These strings enter header hashes.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import time as _time
from collections.abc import Callable
from typing import Any

__all__ = ["Clock", "system_clock", "stepping_clock", "format_ns", "parse_iso8601_ns"]

Clock = Callable[[], int]
"""A source of "now": nanoseconds since the epoch."""

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def system_clock() -> int:
    """Wall-clock time in nanoseconds since the epoch (the production :data:`Clock`)."""
    return _time.time_ns()


def stepping_clock(start_ns: int, step_ns: int = 1_000_000) -> Clock:
    """A deterministic :data:`Clock`: ``start_ns``, then ``step_ns`` later at every reading."""
    ticks = itertools.count(start_ns, step_ns)
    return lambda: next(ticks)


_last_second: list[Any] = [None, ""]  # the last second formatted, and its text (commits come in bursts)


def format_ns(ns: int) -> str:
    """RFC 3339 text of a UTC time given in nanoseconds since the epoch."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    if _last_second[0] == seconds:
        base = _last_second[1]
    else:
        base = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds))
        _last_second[0], _last_second[1] = seconds, base
    if nanos == 0:
        frac = ""
    elif nanos % 1_000_000 == 0:
        frac = f".{nanos // 1_000_000:03d}"
    elif nanos % 1_000 == 0:
        frac = f".{nanos // 1_000:06d}"
    else:
        frac = f".{nanos:09d}"
    return f"{base}{frac}+00:00"


def parse_iso8601_ns(text: str) -> int:
    """Parse an ISO 8601 time (lenient: a missing zone means UTC) to nanoseconds."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    frac_ns = 0
    main = text
    # split off a fractional part so nanoseconds survive (datetime keeps micros)
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        for ch in rest:
            if ch.isdigit():
                digits += ch
            else:
                break
        zone = rest[len(digits) :]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        main = head + zone
    parsed = _dt.datetime.fromisoformat(main)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    delta = parsed - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + frac_ns
