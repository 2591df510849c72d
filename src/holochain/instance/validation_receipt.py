"""The ``validation_receipt`` workflow: telling the senders of a pending op how it settled.

An op that waited for its dependencies is answered ``pending`` at first;
when it settles (held, rejected, or dropped because we no longer hold its
basis) each peer that sent it gets a receipt ``[op hash, status]``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..net.dht import DhtNode

__all__ = ["send_validation_receipts"]


def send_validation_receipts(node: DhtNode, senders: Iterable[str], op_hash: str, status: str) -> None:
    for sender in senders:
        node.send_receipts(sender, [[op_hash, status]])
