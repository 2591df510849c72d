"""Content addresses: ``base58btc(0x12 0x20 || sha256(content))``.

This is the IPFS-style sha2-256 multihash holochain-persistence uses for
every address (entries, headers, DNAs, CRUD statuses): always 46 characters
starting with ``Qm``.  Addresses are not validated as base58 anywhere in
holochain-rust's API; any string is a valid lookup key that may find nothing.
"""

from __future__ import annotations

import hashlib

__all__ = ["address_of", "b58encode", "b58decode", "is_address"]

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
# Two base58 digits at a time: 58**2 = 3364 entries, halving the divmods.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_MULTIHASH_PREFIX = b"\x12\x20"


_QUADS = 3364 * 3364  # 58**4 < 2**30: one-digit divisor for CPython's fast division path


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, leading zero bytes kept as ``1``s."""
    n = int.from_bytes(data, "big")
    out: list[str] = []
    put = out.append
    pairs = _PAIRS
    while n >= _QUADS:  # four digits per big-number division
        n, r = divmod(n, _QUADS)
        high, low = divmod(r, 3364)
        put(pairs[low])
        put(pairs[high])
    while n >= 3364:
        n, r = divmod(n, 3364)
        put(pairs[r])
    out.reverse()
    text = "".join(out)
    if n >= 58:
        text = pairs[n] + text
    elif n > 0:  # (n is 0 only for an all-zero input: the divisions leave a leading digit)
        text = _ALPHABET[n] + text
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + text


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises ``ValueError`` on a foreign char."""
    n = 0
    for c in text:
        try:
            n = n * 58 + _INDEX[c]
        except KeyError:
            raise ValueError(f"invalid base58 character {c!r}") from None
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def address_of(content: str | bytes) -> str:
    """The address of a content string (hashed as UTF-8)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return b58encode(_MULTIHASH_PREFIX + hashlib.sha256(content).digest())


def is_address(text: str) -> bool:
    """True for a well-formed ``Qm…`` sha2-256 multihash address."""
    if len(text) != 46 or not text.startswith("Qm"):
        return False
    try:
        raw = b58decode(text)
    except ValueError:
        return False
    return len(raw) == 34 and raw[:2] == _MULTIHASH_PREFIX
