"""Which chain records a ``query`` names: holochain-rust's entry-type patterns.

``query`` takes one name or a list (``crates/core/src/agent/chain_store.rs``):

* ``[]``, ``[""]`` and ``["**"]`` match every record;
* a single name without glob characters (``./*[]{}``) is an exact type name,
  e.g. ``post`` or ``%cap_token_grant``;
* anything else is a glob set (globset, with ``/`` a literal separator):
  ``*`` and ``?`` stay within a ``/`` segment, ``**`` crosses them,
  ``[!…]`` negates a class, ``{a,b}`` is an alternation.

A malformed pattern raises :class:`QueryPatternError` (the zome sees the
error code ``Unknown entry type``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .entry import SYS_TYPE_NAMES
from .errors import CoreError

__all__ = ["QueryPatternError", "compile_type_names", "parse_query_options"]

_GLOB_CHARS = set("./*[]{}")


class QueryPatternError(CoreError, ValueError):
    """An entry-type pattern that is not a valid glob."""


def _glob_to_regex(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        c = pattern[i]
        if c == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if i + 1 < n and pattern[i + 1] in "!^" else i + 1)
            if end == -1:
                raise QueryPatternError(f"unclosed character class in {pattern!r}")
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}":
            if depth == 0:
                raise QueryPatternError(f"unopened alternation in {pattern!r}")
            depth -= 1
            out.append(")")
        elif c == "," and depth > 0:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise QueryPatternError(f"unclosed alternation in {pattern!r}")
    return "".join(out)


def compile_type_names(names: Any) -> Callable[[str], bool]:
    """A predicate over entry-type names (string form) for ``query``'s names argument."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise QueryPatternError("entry_type_names is a string or a list of strings")
    if not names or names == [""] or names == ["**"]:
        return lambda _name: True
    if len(names) == 1 and not (_GLOB_CHARS & set(names[0])):
        only = names[0]
        if only.startswith("%") and only not in SYS_TYPE_NAMES.values():
            raise QueryPatternError(f"unknown system entry type {only!r}")
        return lambda name: name == only
    try:
        regexes = [re.compile(_glob_to_regex(p) + r"\Z", re.DOTALL) for p in names]
    except re.error as exc:
        raise QueryPatternError(str(exc)) from None
    return lambda name: any(r.match(name) for r in regexes)


def parse_query_options(options: Any) -> dict[str, Any]:
    """``QueryArgsOptions``: ``start`` (skip), ``limit`` (0 = all), ``headers``, ``entries``."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise QueryPatternError("query options must be a JSON object")
    out: dict[str, Any] = {}
    for key in ("start", "limit"):
        value = options.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise QueryPatternError(f"`{key}` must be a non-negative integer")
        out[key] = value
    out["headers"] = bool(options.get("headers", False))
    out["entries"] = bool(options.get("entries", False))
    return out
