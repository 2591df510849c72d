"""System validation: the checks every holder runs before app validation.

``validate_entry`` in holochain-rust (``crates/core/src/nucleus/validation``)
first checks that the header names the entry, then that every provenance's
signature verifies over the entry address; only then does it run the
DNA's callbacks.  The failure texts below are holochain-rust's.

Also here: the validation-package definition each system entry type uses,
and the rule that a package only ever shows a validator headers strictly
older than the one being validated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .crypto import PublicKeyError, verify
from .entry import Entry
from .errors import HolochainError
from .header import ChainHeader
from .time import parse_iso8601_ns

__all__ = [
    "check_header_entry",
    "check_provenances",
    "check_header",
    "SYSTEM_PACKAGE_DEFINITIONS",
    "PACKAGE_DEFINITIONS",
    "headers_before",
    "AUTHOR_VALIDATED_SYS",
]

PACKAGE_DEFINITIONS = ("Entry", "ChainEntries", "ChainHeaders", "ChainFull")
# crates/core/src/wasm_engine/callback/validation_package.rs
SYSTEM_PACKAGE_DEFINITIONS = {
    "Deletion": "ChainFull",
    "CapTokenGrant": "Entry",
    "AgentId": "Entry",
    "ChainHeader": "Entry",
}
# system entry kinds author_entry accepts (others: "Attempted to validate system entry type …")
AUTHOR_VALIDATED_SYS = frozenset({"LinkAdd", "LinkRemove", "Deletion", "CapTokenGrant", "AgentId"})


def check_header_entry(entry: Entry, header: ChainHeader) -> None:
    if entry.address != header.entry_address:
        raise HolochainError.validation_failed("Wrong header for entry")


def check_provenances(entry_address: str, provenances: Iterable[list[str]]) -> None:
    """Every provenance must sign the entry address (holochain-rust's texts on failure)."""
    for provenance in provenances:
        if not (isinstance(provenance, list) and len(provenance) == 2 and all(isinstance(p, str) for p in provenance)):
            raise HolochainError.validation_failed("provenance must be [source, signature]")
        source, signature = provenance
        try:
            ok = verify(source, signature, entry_address)
        except PublicKeyError:
            raise HolochainError.validation_failed(
                f"Signature of entry {entry_address} from author {source} failed to verify "
                "public signing key. Key might be invalid."
            ) from None
        if not ok:
            raise HolochainError.validation_failed(f"Signature of entry {entry_address} from author {source} invalid")


def check_header(entry: Entry, header: ChainHeader) -> None:
    """Header/entry match, then signatures: what a holder checks before anything else."""
    check_header_entry(entry, header)
    if not header.provenances:
        raise HolochainError.validation_failed(f"Entry {entry.address} has no provenance")
    check_provenances(header.entry_address, header.provenances)


def headers_before(headers: Iterable[dict[str, Any]], timestamp: str) -> list[dict[str, Any]]:
    """The package headers a validator may see: strictly older than ``timestamp``."""
    limit = parse_iso8601_ns(timestamp)
    return [h for h in headers if parse_iso8601_ns(h["timestamp"]) < limit]
