"""HCID: the ``HcS…`` text form of agent keys (hcid crate v0.0.6).

A 32-byte key gets 8 Reed-Solomon parity bytes (GF(256), polynomial 0x11d,
generator 2, first consecutive root 0).  The 3-byte kind prefix, the key and
the first 4 parity bytes are written in Holochain's base32 alphabet; the last
4 parity bytes are written as the upper/lower case of the letters, so the
text survives case-folding (losing only part of its error correction) and
most transcription mistakes are corrected on decode.
"""

from __future__ import annotations

from functools import lru_cache

import reedsolo

from .errors import CoreError

__all__ = ["encode", "decode", "HcidError", "SIGNING_KIND", "ENCRYPTING_KIND"]

SIGNING_KIND = "hcs0"
ENCRYPTING_KIND = "hck0"

_ALPHABET = b"ABCDEFGHIJKMNOPQRSTUVWXYZ3456789"
_REVERSE = {c: i for i, c in enumerate(_ALPHABET)}
_KIND_BYTE = {"hca0": 0x80, "hck0": 0x94, "hcs0": 0xA2}
_KEY_LEN = 32
_BASE_PARITY = 4
_CAP_PARITY = 4
_SEGMENT = 15
_ENCODED_LEN = 63
_PREFIX_CAP = "101"


class HcidError(CoreError, ValueError):
    """A string that is not a valid (or correctable) HCID of the given kind."""


@lru_cache(maxsize=1)
def _codec() -> reedsolo.RSCodec:
    return reedsolo.RSCodec(_BASE_PARITY + _CAP_PARITY, fcr=0, prim=0x11D, generator=2, c_exp=8)


def _b32encode(data: bytes) -> bytearray:
    """The crate's base32: emits while more than 5 bits are pending."""
    out = bytearray()
    bits = 0
    acc = 0
    for byte in data:
        acc = ((acc << 8) | byte) & 0xFFFF
        bits += 8
        while bits > 5:
            bits -= 5
            out.append(_ALPHABET[31 & (acc >> bits)])
    if bits > 0:
        out.append(_ALPHABET[31 & (acc << (5 - bits))])
    return out


def _b32decode(data: bytes) -> bytes:
    out = bytearray()
    bits = 0
    acc = 0
    for c in data:
        v = _REVERSE.get(c)
        if v is None:
            raise HcidError("bad input")
        acc = ((acc << 5) | v) & 0xFFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append(0xFF & (acc >> bits))
    if bits >= 5 or (0xFF & (acc << (8 - bits))) != 0:
        raise HcidError("unexpected eof")
    return bytes(out)


def _cap_encode(seg: bytearray, start: int, end: int, bin_: str, minimum: int) -> None:
    count = 0
    idx = 0
    for i in range(start, end):
        c = seg[i]
        if idx >= len(bin_):
            if 65 <= c <= 90:
                seg[i] = c ^ 32
            continue
        if 65 <= c <= 90 or 97 <= c <= 122:
            count += 1
            seg[i] = (c & ~32) if bin_[idx] == "1" else (c | 32)
            idx += 1
    if count < minimum:
        for i in range(start, end):
            if 65 <= seg[i] <= 90:
                seg[i] ^= 32


@lru_cache(maxsize=4096)
def encode(key: bytes, kind: str = SIGNING_KIND) -> str:
    """Render a 32-byte public key as HCID text of ``kind``."""
    if len(key) != _KEY_LEN:
        raise HcidError(f"BadDataLen:{len(key)},Expected:{_KEY_LEN}")
    codeword = bytes(_codec().encode(key))
    parity = codeword[_KEY_LEN:]
    base = bytes([0x38, _KIND_BYTE[kind], 0x24]) + key + parity[:_BASE_PARITY]
    text = _b32encode(base)
    _cap_encode(text, 0, 3, _PREFIX_CAP, 3)
    for i, byte in enumerate(parity[_BASE_PARITY:]):
        start = 3 + i * _SEGMENT
        _cap_encode(text, start, start + _SEGMENT, f"{byte:08b}", 8)
    return text.decode("ascii")


def _cap_decode(chars: bytes, erased: list[bool], offset: int) -> int | None:
    bits = ""
    for i, c in enumerate(chars):
        if erased[offset + i]:
            return None
        if 65 <= c <= 90:
            bits += "1"
        elif 97 <= c <= 122:
            bits += "0"
        if len(bits) >= 8:
            break
    return int(bits, 2) if len(bits) == 8 else None


@lru_cache(maxsize=4096)
def decode(text: str, kind: str = SIGNING_KIND) -> bytes:
    """Parse HCID text back to its 32 key bytes, correcting what can be."""
    if len(text) != _ENCODED_LEN:
        raise HcidError(f"BadIdLen:{len(text)},Expected:{_ENCODED_LEN}")
    raw = text.encode("ascii", errors="replace")
    erased = [False] * len(raw)
    data = bytearray()
    for i, c in enumerate(raw):
        if c == 0x30:  # '0'
            data.append(ord("O"))
        elif c in b"1lL":
            data.append(ord("I"))
        elif c == 0x32:  # '2'
            data.append(ord("Z"))
        elif 65 <= c <= 90 or 97 <= c <= 122 or 51 <= c <= 57:
            data.append(c)
        else:
            erased[i] = True
            data.append(ord("A"))

    key_base = _KEY_LEN + _BASE_PARITY
    byte_erasures = [False] * (key_base + _CAP_PARITY)
    cap_bytes: list[int] = []
    all_zero = all_one = True
    for i in range(_CAP_PARITY):
        start = 3 + i * _SEGMENT
        value = _cap_decode(bytes(data[start : start + _SEGMENT]), erased, start)
        if value is None:
            byte_erasures[key_base + i] = True
            cap_bytes.append(0)
        else:
            all_zero = all_zero and value == 0
            all_one = all_one and value == 0xFF
            cap_bytes.append(value)
    if all_zero or all_one:
        for i in range(_CAP_PARITY):
            byte_erasures[key_base + i] = True

    decoded = bytearray(_b32decode(bytes(data.upper())))
    if decoded[:3] != bytes([0x38, _KIND_BYTE[kind], 0x24]):
        raise HcidError("PrefixMismatch")
    del decoded[:3]
    decoded.extend(cap_bytes)
    for i in range(3, len(erased)):
        if erased[i]:
            byte_erasures[(i * 5) // 8 - 3] = True
            byte_erasures[(i * 5 + 4) // 8 - 3] = True
    erasure_positions = [i for i, e in enumerate(byte_erasures) if e]
    for i in erasure_positions:
        decoded[i] = 0
    if len(erasure_positions) > (_BASE_PARITY + _CAP_PARITY) // 2:
        raise HcidError("TooManyErrors")
    codec = _codec()
    if not erasure_positions and codec.check(bytes(decoded))[0]:
        return bytes(decoded[:_KEY_LEN])
    try:
        corrected = codec.decode(bytes(decoded), erase_pos=erasure_positions or None)[0]
    except reedsolo.ReedSolomonError as exc:
        raise HcidError(f"TooManyErrors: {exc}") from None
    return bytes(corrected[:_KEY_LEN])
