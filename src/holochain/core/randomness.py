"""The random source: where core's secrets and nonces come from.

Nothing in core draws randomness by itself: whoever needs random bytes is
given a :data:`RandomSource` (:func:`system_random`, the operating system's
CSPRNG through libsodium, in production; :func:`seeded_random` under test,
so that what depends on it — a keystore's random seeds, an encryption
nonce, a one-time signing key — is reproducible).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import nacl.utils

__all__ = ["RandomSource", "system_random", "seeded_random"]

RandomSource = Callable[[int], bytes]
"""``random(size)``: ``size`` random bytes."""


def system_random(size: int) -> bytes:
    """``size`` bytes from the operating system's CSPRNG (the production :data:`RandomSource`)."""
    return nacl.utils.random(size)


def seeded_random(seed: bytes) -> RandomSource:
    """A deterministic :data:`RandomSource` (BLAKE2b in counter mode over ``seed``): for tests only."""
    counter = itertools.count()

    def draw(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.blake2b(next(counter).to_bytes(8, "little"), key=seed[:64]).digest()
        return out[:size]

    return draw
