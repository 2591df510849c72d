"""What zome calls the conductor served: counts, latencies and the recent ones.

The conductor notes every call it routes (interfaces and bridges) here:
by instance, zome, function and result (``ok``, ``err`` when the function
returned ``{"Err": …}``, ``error`` when the call was refused or failed),
with its duration in a fixed-bucket histogram, and keeps the last
:data:`RECENT` calls with a sequence number, so the dashboard can push
what is new and ``/metrics`` can read the totals at scrape time.

Why not a prometheus-client ``Counter`` per call: its ``labels()`` lookup
and lock cost more than the rest of this note together; this is one dict
lookup, one bisect and one deque append per call, and nothing at all is
formatted until someone asks.  The number of distinct label sets is bounded
(:data:`MAX_KEYS`): a client can call names a DNA does not declare, and
those are noted under ``_unknown``.
"""

from __future__ import annotations

import collections
import time
from bisect import bisect_left
from time import perf_counter
from typing import Any, NamedTuple

__all__ = ["CallLog", "CallRecord", "CallStats", "BUCKETS", "RECENT", "MAX_KEYS", "UNKNOWN"]

# seconds; the upper bounds of the latency histogram (a last +Inf bucket follows)
BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECENT = 1000
MAX_KEYS = 4096
UNKNOWN = "_unknown"
RESULTS = ("ok", "err", "error")


class CallRecord(NamedTuple):
    """One finished call, as the dashboard's live log shows it."""

    seq: int
    at: float  # wall-clock time the call started (seconds since the epoch)
    instance: str
    zome: str
    function: str
    duration: float  # seconds
    result: str  # ok | err | error
    detail: str  # the error text for a refused call, the Err for err, else ""


class CallStats:
    """Totals of one (instance, zome, function): calls per result and the latency histogram."""

    __slots__ = ("results", "buckets", "total_seconds")

    def __init__(self) -> None:
        self.results = dict.fromkeys(RESULTS, 0)
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.total_seconds = 0.0


class CallLog:
    def __init__(self) -> None:
        self.stats: dict[tuple[str, str, str], CallStats] = {}
        self.recent: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=RECENT)
        self.seq = 0
        self._clock_offset = time.time() - time.perf_counter()

    def note(self, instance: str, zome: str, function: str, started: float, result: str, detail: str = "") -> None:
        """A call that began at ``started`` (``time.perf_counter()``) has finished now."""
        duration = perf_counter() - started
        stats = self.stats.get((instance, zome, function))
        if stats is None:
            instance, zome, function, stats = self._add(instance, zome, function)
        stats.results[result] += 1
        stats.buckets[bisect_left(BUCKETS, duration)] += 1
        stats.total_seconds += duration
        self.seq = seq = self.seq + 1
        # a plain tuple (a CallRecord's fields): the cheapest thing to make once per call
        self.recent.append(
            (
                seq,
                started + self._clock_offset,
                instance,
                zome,
                function,
                duration,
                result,
                detail[:500] if detail else "",
            )
        )

    def _add(self, instance: str, zome: str, function: str) -> tuple[str, str, str, CallStats]:
        if len(self.stats) >= MAX_KEYS:
            zome = function = UNKNOWN
            stats = self.stats.get((instance, zome, function))
            if stats is not None:
                return instance, zome, function, stats
        stats = self.stats[(instance, zome, function)] = CallStats()
        return instance, zome, function, stats

    def since(self, seq: int) -> list[CallRecord]:
        """The recent calls after ``seq`` (oldest first; older ones may have left the window)."""
        recent = self.recent
        if not recent or recent[-1][0] <= seq:
            return []
        return [CallRecord._make(r) for r in recent if r[0] > seq]
