"""Publishing: ``produce_dht_ops`` and ``publish_dht_ops`` from the committed chain.

The publisher keeps a cursor (in the store) at the first chain record not
yet published.  When poked (after every commit, and when the instance joins
the network) it waits until the chain is durable, turns each record past the
cursor into DHT ops (:func:`holochain.core.dht_ops.produce_dht_ops`), sends
them to their holders and, once every holder has answered for them,
advances the cursor.  We hold our own data too, but like any holder only
after validating it as one (until then we see it locally, peers do not).  So publishing happens after the zome call's reply and
from what is stored: a crash at any point loses nothing, the next start
publishes again from the cursor (holders ignore what they already hold).

The same derivation answers newcomers: :meth:`Publisher.authored_ops` lists
every op of our chain, which the node sends along with what we hold for
others.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Iterator

from ..core.dht_ops import DhtOp, produce_dht_ops
from ..storage.base import WriteBatch

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["Publisher", "CURSOR_KEY"]

log = logging.getLogger(__name__)

CURSOR_KEY = "publish-cursor"
_BATCH_RECORDS = 500


class Publisher:
    def __init__(self, instance: "Instance") -> None:
        self.instance = instance
        self.cursor = int(instance.store.kv_get(CURSOR_KEY) or 0)
        self._task: asyncio.Task[None] | None = None

    def ops_for(self, start: int, end: int | None = None) -> Iterator[DhtOp]:
        instance = self.instance
        sign = instance.agent.sign
        for record in instance.chain.records_asc(start, end):
            assert record.entry is not None
            yield from produce_dht_ops(record.entry, record.header,
                                       public=not instance.shard.is_private(record.entry), sign=sign)

    def authored_ops(self) -> Iterator[DhtOp]:
        return self.ops_for(0)

    def poke(self) -> None:
        """Publish whatever is past the cursor (no-op while a run is going: it will see it)."""
        node = self.instance.node
        if node is None or node.closed:
            return
        if self._task is None or self._task.done():
            self._task = node.spawn("unpublished records", self._run())

    async def _run(self) -> None:
        instance = self.instance
        node = instance.node
        assert node is not None
        while self.cursor < instance.chain.length and not node.closed:
            end = min(instance.chain.length, self.cursor + _BATCH_RECORDS)
            await instance.wait_durable(instance.last_ticket)
            ops = list(self.ops_for(self.cursor, end))
            for op in ops:
                # we are a holder of our own data, validated as any holder validates it
                if op.kind == "Content" and node.should_hold(node.agent, op.basis):
                    status = await instance.incoming.hold_own(op)
                    if status != "held":
                        log.info("instance '%s': as a holder we do not hold our own %r: %s",
                                 instance.instance_id, op, status)
            if ops:
                await node.publish([op.to_json() for op in ops], [op.basis for op in ops])
            self.cursor = end
            instance.store.write(WriteBatch(kv={CURSOR_KEY: str(end)}))
