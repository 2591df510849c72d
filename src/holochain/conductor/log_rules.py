"""holochain-rust's ``[logger]`` table: a level and ordered rules that filter and colour logs.

::

    [logger]
    type = "debug"              # the level: trace, debug, info, warn, error
    state_dump = false          # log a summary of every instance's state every 10 s
    [[logger.rules.rules]]
    pattern = ".*"              # a regular expression
    exclude = true              # drop what matches
    [[logger.rules.rules]]
    pattern = "^holochain.net"
    exclude = false
    color = "cyan"

As holochain-rust's logger (holochain_logging's ``should_log_in``) did, each
rule's pattern is searched in ``"<target> <message>"`` (here the target is
the Python logger's name, e.g. ``holochain.instance.instance``), every rule
is tried in order and **the last one that matches decides**: an ``exclude``
drops the line, otherwise it is shown in the rule's ``color``.  A line no
rule matches is shown; no rules show everything.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["LogRule", "parse_log_rules", "log_level", "COLORS", "LEVELS"]

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# ANSI codes of the colour names holochain-rust's `colored` crate knows
COLORS = {
    "black": "30",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "purple": "35",
    "cyan": "36",
    "white": "37",
    "bright black": "90",
    "bright red": "91",
    "bright green": "92",
    "bright yellow": "93",
    "bright blue": "94",
    "bright magenta": "95",
    "bright cyan": "96",
    "bright white": "97",
}


@dataclass(frozen=True)
class LogRule:
    pattern: re.Pattern[str]
    exclude: bool
    color: str | None  # an ANSI code, or None


def log_level(name: str) -> int | None:
    """The logging level of a ``type`` (case-insensitive), or None if it names none."""
    return LEVELS.get(name.strip().lower())


def parse_log_rules(table: Any, where: str = "logger.rules") -> list[LogRule]:
    """The rules of a ``[logger.rules]`` table (``{"rules": [...]}``); raises ValueError naming the bad key."""
    if table in (None, {}):
        return []
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table with a `rules` array")
    rules = table.get("rules", [])
    if not isinstance(rules, list):
        raise ValueError(f"{where}.rules: expected an array of tables")
    parsed = []
    for i, rule in enumerate(rules):
        at = f"{where}.rules[{i}]"
        if not isinstance(rule, dict):
            raise ValueError(f"{at}: expected a table")
        pattern = rule.get("pattern")
        if not isinstance(pattern, str):
            raise ValueError(f"{at}: missing key `pattern` (a regular expression)")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{at}.pattern: invalid regular expression {pattern!r}: {exc}") from None
        exclude = rule.get("exclude", False)
        if not isinstance(exclude, bool):
            raise ValueError(f"{at}.exclude: expected true or false")
        color = rule.get("color")
        if color is not None and not isinstance(color, str):
            raise ValueError(f"{at}.color: expected a colour name")
        # unknown colour names are shown uncoloured, as holochain-rust did not refuse them
        code = COLORS.get(color.strip().lower()) if color else None
        parsed.append(LogRule(compiled, exclude, code))
    return parsed
