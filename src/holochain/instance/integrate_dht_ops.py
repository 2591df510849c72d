"""The ``integrate_dht_ops`` workflow: a validated op becomes held.

The op is written to the shard and to the log of ops held for others (in
one write, waited for until durable); from then on the node offers it in
gossip, and — when consistency signals are on — a signal says it is held
(:mod:`.consistency`).
"""

from __future__ import annotations

from ..core.dht_ops import DhtOp
from ..storage.base import WriteBatch
from .consistency import hold_signal
from .workspace import Workspace

__all__ = ["integrate_dht_op"]


async def integrate_dht_op(ws: Workspace, op: DhtOp) -> None:
    """Hold ``op`` (validated): store it, then tell the node and the consistency waiters."""
    batch = WriteBatch()
    ws.shard.integrate(op, batch, ws.clock(), log_op=True)
    await ws.wait_durable(ws.store.write(batch))
    if ws.node is not None:
        ws.node.note_held(op.hash, op.basis, op.author)
    if ws.consistency_signals:
        signal = hold_signal(op)
        if signal is not None:
            ws.emit_consistency(signal)
