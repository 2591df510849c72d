"""Where both commands' logs go and how they look: stderr, text or JSON lines.

Standard output carries the markers clients parse (``*** Done. All
interfaces started.``), so logs always go to standard error.  ``text`` is a
line for people (coloured by ``[logger]`` rules on a terminal); ``json``
(``--log-format json``) is one JSON object per record, for log collectors::

    {"time": "2026-01-01T12:00:00.123Z", "level": "info", "logger": "holochain.conductor.conductor",
     "message": "started instance 'app'"}

with ``exception`` (the traceback) when there is one.  In JSON mode progress
lines are off too: nothing but JSON reaches standard error from the logs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, TextIO

import orjson

from ..conductor.config import LoggerConfig
from ..conductor.log_rules import LogRule, log_level, parse_log_rules
from ..core import progress

__all__ = ["setup_logging", "logger_level", "log_state_dumps", "LOG_FORMATS", "STATE_DUMP_SECONDS"]

LOG_FORMATS = ("text", "json")
STATE_DUMP_SECONDS = 10.0  # holochain-rust's scheduler dumped state every 10 s
_NOISY = ("aiohttp.access", "asyncio")


class _RuleFilter(logging.Filter):
    """holochain-rust's rule filtering (see :mod:`holochain.conductor.log_rules`): the last match decides."""

    def __init__(self, rules: list[LogRule]) -> None:
        super().__init__()
        self.rules = rules

    def filter(self, record: logging.LogRecord) -> bool:
        record.hc_color = None
        if not self.rules:
            return True
        text = f"{record.name} {record.getMessage()}"
        shown, color = True, None
        for rule in self.rules:
            if rule.pattern.search(text):
                shown, color = not rule.exclude, rule.color
        record.hc_color = color
        return shown


class _TextFormatter(logging.Formatter):
    def __init__(self, colors: bool) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.colors = colors

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        color = getattr(record, "hc_color", None)
        return f"\x1b[{color}m{text}\x1b[0m" if color and self.colors else text


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out).decode()


def logger_level(config: LoggerConfig, given: str | None, default: str = "warning") -> int:
    """The level: ``--log-level`` when given, else the ``[logger]`` table's ``type``, else ``default``.

    A ``type`` that names no level is reported (as holochain-rust did) and the default used."""
    if given is not None:
        return log_level(given) or logging.WARNING
    if config.explicit:
        level = log_level(config.type)
        if level is not None:
            return level
        print(f"Fail to parse the logging level from string: '{config.type}'.", file=sys.stderr, flush=True)
    return log_level(default) or logging.WARNING


def setup_logging(
    level: str | int,
    *,
    fmt: str = "text",
    rules: list[LogRule] | dict[str, Any] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Send logs to stderr at ``level``, as ``fmt`` (``text`` or ``json``), through ``[logger]`` rules.

    Called again (once the configuration is read), it replaces what it set up."""
    if isinstance(level, str):
        level = log_level(level) or logging.INFO
    if isinstance(rules, dict):
        rules = parse_log_rules(rules)
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter(colors=_is_tty(stream)))
    handler.addFilter(_RuleFilter(rules or []))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_holochain", False)]:
        root.removeHandler(old)
    handler._holochain = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, level))
    progress.set_enabled(fmt != "json")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def log_state_dumps(conductor: Any, interval: float = STATE_DUMP_SECONDS) -> None:
    """``[logger] state_dump = true``: every ``interval`` seconds, log what each instance holds."""
    log = logging.getLogger("holochain.state_dump")
    while True:
        await asyncio.sleep(interval)
        for instance_id, instance in list(conductor.instances.items()):
            try:
                entries, headers = instance.store.held_counts()
                peers = len(instance.node.members()) - 1 if instance.node is not None else 0
            except Exception as exc:  # a dump must never stop the conductor
                log.warning("state dump of instance '%s' failed: %s", instance_id, exc)
                continue
            log.info(
                "STATE DUMP of instance '%s': source chain %d records, %s; holding %d entries and %d headers; %d peers",
                instance_id,
                instance.chain.length,
                "active" if instance.active else "stopped",
                entries,
                headers,
                peers,
            )
