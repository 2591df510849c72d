"""Publishing: ``produce_dht_ops`` and ``publish_dht_ops`` from the committed chain.

The publisher keeps a cursor (in the store) at the first chain record not
yet published.  When poked (after every commit, and when the instance joins
the network) it waits until the chain is durable, turns each record past the
cursor into DHT ops (:func:`holochain.core.dht_ops.produce_dht_ops`), sends
them to their holders and, once every holder has answered for them,
advances the cursor.  We hold our own data too, but serve it to peers, like
any holder, only after validating it as one (until then we see it locally,
peers do not).  An agent alone on its network skips all of this: nobody
would receive it; when peers appear (a newcomer, or the relay coming back)
the skipped records are published then, and gossip reconciles the rest.
So publishing happens after the zome call's reply and from what is stored:
a crash at any point loses nothing, the next start publishes again from the
cursor (holders ignore what they already hold).  Delivery to each holder is
acknowledged and retried with backoff for a bounded time (the node's
outboxes, :mod:`holochain.net.dht`); what is given up, gossip repairs.  The
cursor is written every few dozen records and at close, not per record:
after a crash a few records are published twice, which costs holders nothing.

It works over the workspace (:mod:`.workspace`): a commit wakes it through
the workspace's ``publish_trigger``; our own records are validated as a
holder validates them by the holder's workflow it is given.

The same derivation serves gossip: :meth:`Publisher.authored_items` lists
the ops of our published records, :meth:`Publisher.op` rebuilds one of them
for a peer that asks.  At commit, :meth:`Publisher.announce` emits the
consistency signals of each new record (:mod:`.consistency`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from ..core.dht_ops import NEVER_PUBLISHED, DhtOp, produce_dht_ops
from ..core.entry import Entry
from ..core.header import ChainHeader
from ..storage.base import WriteBatch
from .consistency import publish_signals
from .incoming_dht_ops import Incoming
from .workspace import Workspace

__all__ = ["Publisher", "CURSOR_KEY"]

log = logging.getLogger(__name__)

CURSOR_KEY = "publish-cursor"
_BATCH_RECORDS = 500
_CURSOR_EVERY = 64  # records; publishing again after a crash is harmless (holders ignore repeats)


class Publisher:
    """The ``produce_dht_ops`` and ``publish_dht_ops`` workflows, from a cursor in the store."""

    def __init__(self, ws: Workspace, holder: Incoming) -> None:
        self.ws = ws
        self.holder = holder  # validates our own records as any holder does
        # records before ``cursor`` are handed to the node's outboxes; before ``acked`` every
        # holder is done with them (that is what is stored)
        self.cursor = self.acked = self._saved = int(ws.store.kv_get(CURSOR_KEY) or 0)
        self._in_flight: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()
        self._task: asyncio.Task[None] | None = None
        self._skipped_from: int | None = None  # the first record "published" while alone
        self._announced = ws.chain.length  # records whose consistency signals went out
        self._op_seq: dict[str, int] = {}  # op hash -> chain record, for ops offered in gossip

    def poke(self) -> None:
        """Publish whatever is past the cursor (no-op while a run is going: it will see it)."""
        self.announce()
        node = self.ws.node
        if node is None or node.closed:
            return
        if self._task is None or self._task.done():
            self._task = node.spawn("unpublished records", self._run())

    def peers_changed(self) -> None:
        """Someone joined our view: publish what we committed while alone."""
        if self._skipped_from is not None:
            self.poke()

    def announce(self) -> None:
        """Consistency signals for records committed since the last call (during the zome call)."""
        ws = self.ws
        length = ws.chain.length
        if self._announced >= length:
            return
        start, self._announced = self._announced, length
        network = ws.network
        if not ws.consistency_signals or network.is_private or not network.full_sync:
            return
        for record in ws.chain.records_asc(start, length):
            assert record.entry is not None
            for signal in publish_signals(record.entry, record.header, not ws.shard.is_private(record.entry)):
                ws.emit_consistency(signal)

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        """``(op hash, basis)`` of the ops of records ``start`` up to the cursor (durable, handed
        to publishing), and where to start next time."""
        end = self.cursor
        if start >= end:
            return [], start
        items = []
        for seq, record in enumerate(self.ws.chain.records_asc(start, end), start):
            for op in self._record_ops(record.entry, record.header):
                self._op_seq[op.hash] = seq
                items.append((op.hash, op.basis))
        return items, end

    def op(self, op_hash: str) -> Any:
        """One of our ops (JSON) by hash, if it was listed by :meth:`authored_items`."""
        seq = self._op_seq.get(op_hash)
        record = self.ws.chain.record(seq) if seq is not None else None
        if record is None or record.entry is None:
            return None
        for op in self._record_ops(record.entry, record.header):
            if op.hash == op_hash:
                return op.to_json()
        return None

    async def _run(self) -> None:
        ws = self.ws
        node = ws.node
        assert node is not None
        while not node.closed:
            if self._skipped_from is not None and node.others():
                self.cursor, self._skipped_from = min(self.cursor, self._skipped_from), None
            if self.cursor >= ws.chain.length:
                break
            end = min(ws.chain.length, self.cursor + _BATCH_RECORDS)
            await ws.wait_durable(ws.last_ticket)
            if node.others():  # alone, there is nobody to ask us or to send to
                records = list(ws.chain.records_asc(self.cursor, end))
                for record in records:
                    await self._hold_own(record.entry, record.header)
                ops = [op for record in records for op in self._record_ops(record.entry, record.header)]
                delivered = node.publish(
                    [op.to_json() for op in ops], [op.basis for op in ops], [op.hash for op in ops]
                )
            else:
                if self._skipped_from is None:
                    self._skipped_from = self.cursor
                delivered = asyncio.get_running_loop().create_future()
                delivered.set_result(None)
            self.cursor = end
            self._in_flight.append((end, delivered))
            delivered.add_done_callback(lambda _: self._advance())

    def _advance(self) -> None:
        while self._in_flight and self._in_flight[0][1].done():
            self.acked = max(self.acked, self._in_flight.popleft()[0])
        if self.acked - self._saved >= _CURSOR_EVERY:
            self.save_cursor()

    def _record_ops(self, entry: Entry | None, header: ChainHeader) -> list[DhtOp]:
        assert entry is not None
        return produce_dht_ops(entry, header, public=not self.ws.shard.is_private(entry), sign=self.ws.agent.sign)

    async def _hold_own(self, entry: Entry | None, header: ChainHeader) -> None:
        """We hold our own data as a holder too, once validated as any holder validates it."""
        ws = self.ws
        node = ws.node
        assert entry is not None and node is not None
        shard = ws.shard
        if node.should_hold(node.agent, header.address):
            shard.mark_own_header(header)  # a header-entry is always valid
        if (
            entry.variant in NEVER_PUBLISHED
            or shard.is_private(entry)
            or not node.should_hold(node.agent, entry.address)
        ):
            return
        status = await self.holder.hold_own(DhtOp("Content", entry, header))
        if status != "held":
            log.info("instance '%s': as a holder we do not hold our own %s: %s", ws.instance_id, entry, status)

    def save_cursor(self) -> None:
        """Persist the cursor, with the marks of our records validated as a holder (every
        few dozen records, and when the instance closes)."""
        if self.acked != self._saved:
            batch = WriteBatch(kv={CURSOR_KEY: str(self.acked)})
            self.ws.shard.take_own_marks(batch)
            self.ws.store.write(batch)
            self._saved = self.acked
