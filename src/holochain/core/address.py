"""Content addresses: ``base58btc(0x12 0x20 || sha256(content))``.

This is the IPFS-style sha2-256 multihash holochain-persistence uses for
every address (entries, headers, DNAs, CRUD statuses): always 46 characters
starting with ``Qm``.  Addresses are not validated as base58 anywhere in
holochain-rust's API; any string is a valid lookup key that may find nothing.
"""

from __future__ import annotations

import hashlib

from based58 import b58decode as _b58decode
from based58 import b58encode as _b58encode

__all__ = ["address_of", "b58encode", "b58decode", "is_address"]


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, leading zero bytes kept as ``1``s (``based58``, in Rust: a
    commit computes two addresses, and this was the largest pure-Python cost among them)."""
    return _b58encode(data).decode("ascii")


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises ``ValueError`` on a foreign char."""
    try:
        return _b58decode(text.encode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"invalid base58 text: {exc}") from None


_MULTIHASH_PREFIX = b"\x12\x20"


def address_of(content: str | bytes) -> str:
    """The address of a content string (hashed as UTF-8)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return _b58encode(_MULTIHASH_PREFIX + hashlib.sha256(content).digest()).decode("ascii")


def is_address(text: str) -> bool:
    """True for a well-formed ``Qm…`` sha2-256 multihash address."""
    if len(text) != 46 or not text.startswith("Qm"):
        return False
    try:
        raw = b58decode(text)
    except ValueError:
        return False
    return len(raw) == 34 and raw[:2] == _MULTIHASH_PREFIX
