"""Who holds what: DHT locations and the holding rule.

A location is a ``u32`` on a ring.  As lib3h computes it
(``rrdht_util::calc_location_for_id``): BLAKE2b-128 of the id's bytes,
XOR-folded to 4 bytes, read little-endian.  An agent id's bytes are its
decoded Ed25519 key; any other id (an entry address) is first SHA-256'd, as
sim2h's ``anything_to_location`` does.

The holders of a basis address are every member when the redundancy ``R``
is 0 or at least the number of members (*full sync*), otherwise the ``R``
members whose clockwise distance to the basis is smallest — exactly
``min(R, N)`` holders, never fewer.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from ..core import hcid

__all__ = [
    "location",
    "holders_for",
    "holding_arcs",
    "intersect",
    "subtract",
    "in_ranges",
    "Ranges",
    "FULL_RING",
    "RING",
]

RING = 1 << 32


@lru_cache(maxsize=65536)
def location(ident: str) -> int:
    """The ring location of an agent id (``HcS…``) or any other address."""
    raw: bytes
    if ident.startswith("HcS"):
        try:
            raw = hcid.decode(ident)
        except (hcid.HcidError, UnicodeError, ValueError):
            raw = hashlib.sha256(ident.encode("utf-8")).digest()
    else:
        raw = hashlib.sha256(ident.encode("utf-8")).digest()
    h = hashlib.blake2b(raw, digest_size=16).digest()
    folded = bytes(h[i] ^ h[i + 4] ^ h[i + 8] ^ h[i + 12] for i in range(4))
    return int.from_bytes(folded, "little")


def holders_for(basis: str, members: list[str], redundancy: int) -> list[str]:
    """The members that should hold ``basis``, nearest (clockwise) first."""
    target = location(basis)
    ordered = sorted(members, key=lambda agent: ((target - location(agent)) % RING, agent))
    if redundancy <= 0 or redundancy >= len(ordered):
        return ordered
    return ordered[:redundancy]


Ranges = list[tuple[int, int]]
"""Half-open ``[lo, hi)`` intervals of the ring, sorted, not overlapping."""

FULL_RING: Ranges = [(0, RING)]


def holding_arcs(members: list[str], redundancy: int) -> dict[str, Ranges]:
    """The part of the ring each member holds, as ranges (the same rule as :func:`holders_for`).

    A member holds every basis from its own location up to, not including,
    the location of the member ``R`` places after it clockwise: exactly the
    bases for which it is among the ``R`` nearest.  With full sync every arc
    is the whole ring.
    """
    n = len(members)
    if redundancy <= 0 or redundancy >= n:
        return {m: list(FULL_RING) for m in members}
    ordered = sorted(members, key=lambda agent: (location(agent), agent))
    return {m: _interval(location(m), location(ordered[(i + redundancy) % n])) for i, m in enumerate(ordered)}


def _interval(start: int, end: int) -> Ranges:
    if start < end:
        return [(start, end)]
    if start > end:
        return [(0, end), (start, RING)] if end > 0 else [(start, RING)]
    return []


def intersect(a: Ranges, b: Ranges) -> Ranges:
    """The ranges in both ``a`` and ``b``."""
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo < hi:
                out.append((lo, hi))
    out.sort()
    return out


def in_ranges(loc: int, ranges: Ranges) -> bool:
    return any(lo <= loc < hi for lo, hi in ranges)


def subtract(a: Ranges, b: Ranges) -> Ranges:
    """The ranges in ``a`` but not in ``b``."""
    out = []
    for lo, hi in a:
        pieces = [(lo, hi)]
        for blo, bhi in b:
            next_pieces = []
            for plo, phi in pieces:
                if bhi <= plo or blo >= phi:
                    next_pieces.append((plo, phi))
                    continue
                if plo < blo:
                    next_pieces.append((plo, blo))
                if bhi < phi:
                    next_pieces.append((bhi, phi))
            pieces = next_pieces
        out.extend(pieces)
    out.sort()
    return out
