"""Progress lines for long work, on a terminal only.

Verifying a long chain at start, packaging large zomes and a newcomer's
catch-up can take seconds; on a terminal (standard error is a TTY) a line
``<label>: 4096/100000 records (4%)`` is redrawn in place while the work
runs, and a last line says how long it took.  Work that ends within
``delay`` seconds (0.5, or ``HC_PROGRESS_DELAY``) shows nothing, and nothing at all is written when
standard error is not a terminal (a pipe, a log file, a test harness) or
when logs are JSON for machines (:func:`set_enabled`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

__all__ = ["Progress", "set_enabled"]

_enabled = True
_REDRAW_S = 0.1


def _default_delay() -> float:
    try:
        return max(0.0, float(os.environ.get("HC_PROGRESS_DELAY", "0.5")))
    except ValueError:
        return 0.5


def set_enabled(enabled: bool) -> None:
    """Turn progress lines off (``--log-format json``) or back on, for the whole process."""
    global _enabled
    _enabled = enabled


class Progress:
    """``with Progress("verifying", total, unit="records") as p: ... p.advance(n)``."""

    def __init__(
        self, label: str, total: int, *, unit: str = "", delay: float | None = None, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = max(0, total)
        self.unit = f" {unit}" if unit else ""
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self._start = time.monotonic()
        self._shown_at = self._start + (_default_delay() if delay is None else delay)
        self._drawn = 0.0
        self._active = _enabled and _is_tty(self.stream)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self._active:
            return
        now = time.monotonic()
        if now >= self._shown_at and now - self._drawn >= _REDRAW_S:
            self._drawn = now
            self._write(f"\r{self.label}: {self._count()}\x1b[K")

    def _count(self) -> str:
        if self.total:
            return f"{self.done}/{self.total}{self.unit} ({100 * self.done // self.total}%)"
        return f"{self.done}{self.unit}"

    def finish(self) -> None:
        """Close the line, saying how long the work took (only if a line was drawn)."""
        if self._active and self._drawn:
            elapsed = time.monotonic() - self._start
            self._write(f"\r{self.label}: {self._count()}, done in {elapsed:.1f}s\x1b[K\n")
        self._active = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not stop the work
            self._active = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
