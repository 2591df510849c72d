"""Anti-entropy bookkeeping: what a node has, summarised by ring location.

A :class:`GossipIndex` lists every op a node can serve — what it authored
and what it holds for others — by op hash, with the location of the op's
basis and its author.  Two nodes reconcile a :class:`Scope` (the part of
the ring both should hold, plus what either authored that the other should
hold) by comparing *digests* — a count and a 48-bit XOR of op-hash hashes
per slice of the ring — slicing finer where they differ, then listing the
slices that still differ and exchanging exactly what is missing.  A round
between nodes that agree costs one request of a few kilobytes.

Pure data, no I/O: :mod:`holochain.net.dht` drives the rounds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ..core.errors import NetworkError
from .location import FULL_RING, RING, Ranges, in_ranges

__all__ = ["GossipIndex", "Scope", "ScopeError", "slice_bounds", "SLICES", "TOP_SHIFT"]

SLICES = 256
TOP_SHIFT = 24  # the top-level buckets are the ring cut in SLICES pieces: location >> 24
_MAX_RANGES = 4096  # in one request, from an untrusted peer


class ScopeError(NetworkError, ValueError):
    """A gossip request whose scope or ranges are malformed."""


def _h48(op_hash: str) -> int:
    return int.from_bytes(hashlib.blake2b(op_hash.encode("utf-8"), digest_size=6).digest(), "little")


def slice_bounds(lo: int, hi: int, slices: int, i: int) -> tuple[int, int]:
    """Slice ``i`` of ``[lo, hi)`` cut in ``slices``: the locations ``x`` with
    ``(x - lo) * slices // (hi - lo) == i`` (what :meth:`GossipIndex.digest` counts)."""
    width = hi - lo
    return lo + (i * width + slices - 1) // slices, lo + ((i + 1) * width + slices - 1) // slices


def _ranges(value: Any, what: str) -> Ranges:
    if not isinstance(value, list) or len(value) > _MAX_RANGES:
        raise ScopeError(f"{what} must be a list of at most {_MAX_RANGES} ranges")
    out = []
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            and 0 <= item[0] < item[1] <= RING
        ):
            raise ScopeError(f"{what} holds a malformed range: {item!r}")
        out.append((item[0], item[1]))
    return out


class Scope:
    """What two nodes ``a`` and ``b`` reconcile: bases in both arcs, and what either
    authored in the other's arc.  Both evaluate the same ranges, so their digests agree
    exactly when they have the same ops."""

    __slots__ = ("both", "a", "arc_a", "b", "arc_b")

    def __init__(self, both: Ranges, a: str, arc_a: Ranges, b: str, arc_b: Ranges) -> None:
        self.both, self.a, self.arc_a, self.b, self.arc_b = both, a, arc_a, b, arc_b

    @property
    def everything(self) -> bool:
        return self.both == FULL_RING

    @property
    def empty(self) -> bool:
        return not self.both and not self.arc_a and not self.arc_b

    def admits(self, loc: int, author: str) -> bool:
        return (
            in_ranges(loc, self.both)
            or (author == self.a and in_ranges(loc, self.arc_b))
            or (author == self.b and in_ranges(loc, self.arc_a))
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "both": [list(r) for r in self.both],
            "a": self.a,
            "arc_a": [list(r) for r in self.arc_a],
            "b": self.b,
            "arc_b": [list(r) for r in self.arc_b],
        }

    @classmethod
    def from_json(cls, value: Any) -> Scope:
        if not isinstance(value, dict) or not isinstance(value.get("a"), str) or not isinstance(value.get("b"), str):
            raise ScopeError("a gossip scope names agents a and b")
        return cls(
            _ranges(value.get("both"), "both"),
            value["a"],
            _ranges(value.get("arc_a"), "arc_a"),
            value["b"],
            _ranges(value.get("arc_b"), "arc_b"),
        )


class GossipIndex:
    """Every op a node can serve: op hash → (basis location, author, digest hash)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, str, int]] = {}
        self._buckets: list[set[str]] = [set() for _ in range(SLICES)]
        # per top-level bucket, over every item: [count, xor] (the digest of a full-ring scope)
        self._totals: list[list[int]] = [[0, 0] for _ in range(SLICES)]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, op_hash: str) -> bool:
        return op_hash in self._items

    def add(self, op_hash: str, loc: int, author: str) -> bool:
        """Index an op; ``False`` if it was already there."""
        if op_hash in self._items:
            return False
        h = _h48(op_hash)
        self._items[op_hash] = (loc, author, h)
        bucket = loc >> TOP_SHIFT
        self._buckets[bucket].add(op_hash)
        total = self._totals[bucket]
        total[0] += 1
        total[1] ^= h
        return True

    def get(self, op_hash: str) -> tuple[int, str] | None:
        item = self._items.get(op_hash)
        return None if item is None else (item[0], item[1])

    def count_in(self, ranges: Ranges) -> int:
        """How many ops have their basis in ``ranges`` (for the dashboard's ring)."""
        return sum(1 for lo, hi in ranges for _ in self._in(lo, hi))

    def sample(self, limit: int) -> list[tuple[str, int, str]]:
        """Up to ``limit`` ``(op hash, location, author)``, the latest indexed first."""
        out = []
        for op_hash in reversed(self._items):
            loc, author, _ = self._items[op_hash]
            out.append((op_hash, loc, author))
            if len(out) >= limit:
                break
        return out

    def _in(self, lo: int, hi: int) -> Iterator[tuple[str, int, str, int]]:
        for bucket in range(lo >> TOP_SHIFT, ((hi - 1) >> TOP_SHIFT) + 1):
            for op_hash in self._buckets[bucket]:
                loc, author, h = self._items[op_hash]
                if lo <= loc < hi:
                    yield op_hash, loc, author, h

    def digest(self, scope: Scope, lo: int, hi: int, slices: int = SLICES) -> list[list[int]]:
        """``[[count, xor], …]`` of the admitted ops in each of ``slices`` slices of ``[lo, hi)``."""
        if scope.everything and lo == 0 and hi == RING and slices == SLICES:
            return [list(t) for t in self._totals]
        out = [[0, 0] for _ in range(slices)]
        width = hi - lo
        for _, loc, author, h in self._in(lo, hi):
            if scope.everything or scope.admits(loc, author):
                cell = out[(loc - lo) * slices // width]
                cell[0] += 1
                cell[1] ^= h
        return out

    def listing(self, scope: Scope, ranges: Ranges, limit: int) -> list[list[Any]]:
        """``[[op hash, author, location], …]`` of the admitted ops in ``ranges`` (at most ``limit``)."""
        out: list[list[Any]] = []
        for lo, hi in ranges:
            for op_hash, loc, author, _ in self._in(lo, hi):
                if scope.everything or scope.admits(loc, author):
                    out.append([op_hash, author, loc])
                    if len(out) >= limit:
                        return out
        return out
