"""holochain-rust's zome ABI: one ``(i64) -> i64`` value type and the host's memory stack.

A ``RibosomeEncodingBits`` value (``crates/wasm_utils/src/memory``) is either
``0`` (Success: no argument, nothing returned), an allocation (offset in the
high 32 bits, a non-zero length in the low 32 bits) of UTF-8 text in the
zome's linear memory, or ``code << 32`` (a :class:`RibosomeErrorCode`).

The host never asks the zome to allocate: it keeps its own stack top per call
(``WasmPageManager``), writes the call input at address 0 and each host reply
(the JSON followed by a NUL, counted in the length) at the top.  The zome
copies out what it reads before writing again, which is why this works.
"""

from __future__ import annotations

from ...core.errors import RibosomeErrorCode

__all__ = [
    "CODE_NUMBERS",
    "CODES_BY_NUMBER",
    "Decoded",
    "HostStack",
    "encode_allocation",
    "encode_code",
    "decode",
    "to_i64",
]

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF

# RibosomeErrorCode's discriminants (core_types/src/error/ribosome_error.rs).
CODE_NUMBERS: dict[RibosomeErrorCode, int] = {code: n for n, code in enumerate(RibosomeErrorCode, start=1)}
# The decoder's table has no entry for 11 (MismatchWasmCallDataType): it reads back as Unspecified.
CODES_BY_NUMBER: dict[int, RibosomeErrorCode] = {
    n: code for code, n in CODE_NUMBERS.items() if code is not RibosomeErrorCode.MismatchWasmCallDataType
}


def to_i64(bits: int) -> int:
    """A u64 as the signed i64 wasmtime passes."""
    bits &= _U64
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def encode_allocation(offset: int, length: int) -> int:
    return to_i64((offset << 32) | length)


def encode_code(code: RibosomeErrorCode) -> int:
    return to_i64(CODE_NUMBERS[code] << 32)


class Decoded:
    """A decoded value: ``kind`` is ``success``, ``failure`` (with ``code``) or ``allocation``."""

    __slots__ = ("kind", "offset", "length", "code")

    def __init__(self, kind: str, offset: int = 0, length: int = 0, code: RibosomeErrorCode | None = None) -> None:
        self.kind = kind
        self.offset = offset
        self.length = length
        self.code = code


def decode(value: int) -> Decoded:
    bits = value & _U64
    length = bits & _U32
    high = bits >> 32
    if length:
        return Decoded("allocation", high, length)
    if high == 0:
        return Decoded("success")
    return Decoded("failure", code=CODES_BY_NUMBER.get(high, RibosomeErrorCode.Unspecified))


class AllocationError(Exception):
    """The host could not place data in the zome's memory (code ``OutOfMemory``)."""


class HostStack:
    """The host side of one call's memory: a top that only goes up (``WasmStack``)."""

    __slots__ = ("top", "limit")

    def __init__(self, limit: int) -> None:
        self.top = 0
        self.limit = min(limit, _U32)

    def place(self, length: int) -> int:
        """Reserve ``length`` bytes at the top; their offset."""
        if length == 0:
            raise AllocationError("Allocation is zero length")
        if self.top + length > self.limit:
            raise AllocationError(
                f"Allocation out of bounds: {length} bytes at {self.top} do not fit in {self.limit} bytes of memory"
            )
        offset = self.top
        self.top += length
        return offset
