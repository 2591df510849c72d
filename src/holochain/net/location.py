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

__all__ = ["location", "holders_for", "RING"]

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
