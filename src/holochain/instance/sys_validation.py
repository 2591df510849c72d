"""The ``sys_validation`` workflow: what a holder checks of an op before any zome code runs.

1. the op is well formed: the header names the entry, the entry is within
   :data:`~.authoring.MAX_ENTRY_BYTES`, every provenance signature verifies;
   private entries, the DNA, grants and claims are refused outright (they
   never leave their author);
2. its dependencies are held here: a deletion needs the deleted version held
   and exactly ``live``; a link needs its base held (and a removal the
   LinkAdds it removes — checked by app validation).  If they have not
   arrived yet the op is *pending*.
"""

from __future__ import annotations

from ..core.crud import can_delete
from ..core.dht_ops import NEVER_PUBLISHED, DhtOp
from ..core.errors import HolochainError
from ..core.header import ChainHeader
from ..core.validation import check_header, check_provenances
from ..net.dht import PENDING, REJECTED
from .authoring import MAX_ENTRY_BYTES
from .shard import Shard

__all__ = ["sys_validate", "check_dependencies", "rejected"]


def rejected(why: str) -> str:
    """A holder's answer for an op it refuses: ``rejected: <why>``."""
    return f"{REJECTED}: {why}"


def sys_validate(op: DhtOp, shard: Shard) -> None:
    """Raise :class:`HolochainError` (``ValidationFailed``, ``EntryIsPrivate``) if ``op`` is malformed."""
    entry, header = op.entry, op.header
    if entry.variant in NEVER_PUBLISHED:
        raise HolochainError.validation_failed(f"{entry.variant} entries are never published")
    if op.kind == "Content" and shard.is_private(entry):
        raise HolochainError("EntryIsPrivate")
    if header.entry_type != entry.entry_type:
        raise HolochainError.validation_failed("Wrong header for entry")
    if len(entry.content.encode("utf-8")) > MAX_ENTRY_BYTES:
        raise HolochainError.validation_failed(f"Entry is larger than {MAX_ENTRY_BYTES} bytes")
    check_header(entry, header)
    if entry.variant == "ChainHeader":
        inner = ChainHeader.from_json(entry.value["ChainHeader"])
        if not inner.provenances or inner.author != header.author:
            raise HolochainError.validation_failed("A header is published by its own author")
        check_provenances(inner.entry_address, inner.provenances)


def check_dependencies(op: DhtOp, shard: Shard) -> str | None:
    """``pending`` or ``rejected: …`` if what ``op`` depends on is not held here as it must be; else None."""
    if op.kind == "Deletion":
        status, _ = shard.crud(op.basis)
        if shard.record(op.basis) is None:
            return PENDING
        if not can_delete(status):
            return rejected(f"cannot delete {op.basis}: its status is {status}")
    elif op.kind in ("LinkAdd", "LinkRemove"):
        if not shard.holds(op.basis):
            return PENDING
    return None
