"""Publishing to one holder: its outbox, sent in order by one worker, retried with backoff.

What a ``publish`` waits for (:class:`Batch`), one op on its way to one
holder (:class:`Item`: outstanding work until held, refused or given up)
and the holder's queue (:class:`Outbox`).  A holder that leaves the view
gets nothing more; whoever holds for it now gets the data by gossip.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from .messages import OPS_PER_MESSAGE
from .switchboard import NetworkError

__all__ = ["Batch", "Item", "Outbox", "HELD", "PENDING", "REJECTED", "DROPPED"]

log = logging.getLogger(__name__)

HELD = "held"
PENDING = "pending"
REJECTED = "rejected"
DROPPED = "dropped"  # a holder let go of an op it could not hold yet (no longer its to hold)
_RETRY_FIRST = 0.05
_RETRY_MAX = 5.0
_RETRY_GIVE_UP = 300.0  # a holder that never answers is left to gossip after this long
_OUTBOX_LIMIT = 100_000  # ops queued for one holder


class Batch:
    """What one ``publish`` call waits for: every (holder, op) delivery to finish."""

    __slots__ = ("node", "remaining", "future")

    def __init__(self, node: Any, count: int) -> None:
        self.node = node
        self.remaining = count
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if count == 0:
            self.future.set_result(None)

    def done_one(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0 and not self.future.done():
            self.future.set_result(None)


class Item:
    """One op on its way to one holder: outstanding work until held, refused or given up."""

    __slots__ = ("op_hash", "op", "size", "batch", "finished", "timer")

    def __init__(self, op_hash: str, op: Any, size: int, batch: Batch) -> None:
        self.op_hash = op_hash
        self.op = op
        self.size = size
        self.batch = batch
        self.finished = False
        self.timer: asyncio.TimerHandle | None = None
        batch.node.begin("deliveries")

    def finish(self, outcome: str) -> None:
        if self.finished:
            return
        self.finished = True
        if self.timer is not None:
            self.timer.cancel()
        self.batch.done_one()
        self.batch.node.end("deliveries")


class Outbox:
    """The ops waiting for one holder, sent in order by one worker, retried with backoff.

    Bounded: past :data:`_OUTBOX_LIMIT` ops the oldest are given up (and
    logged; gossip brings them later); a holder that leaves gets nothing
    more.  A message carries at most :data:`OPS_PER_MESSAGE` ops and half
    the switchboard's message limit in bytes.
    """

    def __init__(self, node: Any, holder: str) -> None:
        self.node = node
        self.holder = holder
        self.queue: collections.deque[Item] = collections.deque()
        self.queued: collections.Counter[str] = collections.Counter()
        self.worker: asyncio.Task[None] | None = None

    def sending(self, op_hash: str) -> bool:
        return op_hash in self.queued or (self.holder, op_hash) in self.node._receipts

    def extend(self, ops: list[tuple[str, Any, int]], batch: Batch) -> None:
        """Queue ``(op hash, op, size in bytes)`` items."""
        for op_hash, op, size in ops:
            self.queue.append(Item(op_hash, op, size, batch))
            self.queued[op_hash] += 1
        dropped = 0
        while len(self.queue) > _OUTBOX_LIMIT:
            self._pop().finish("outbox full")
            dropped += 1
        if dropped:
            log.error(
                "%s: outbox to %s is full; gave up %d ops (gossip brings them later)",
                self.node.agent[:12],
                self.holder,
                dropped,
            )
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self._run())
            self.node._tasks.add(self.worker)
            self.worker.add_done_callback(self.node._tasks.discard)

    def _pop(self) -> Item:
        item = self.queue.popleft()
        self.queued[item.op_hash] -= 1
        if self.queued[item.op_hash] <= 0:
            del self.queued[item.op_hash]
        return item

    def abandon(self, why: str) -> None:
        while self.queue:
            self._pop().finish(why)

    def _chunk(self) -> list[Item]:
        budget = self.node.network.switchboard.max_message_bytes // 2
        chunk: list[Item] = []
        size = 0
        for item in self.queue:
            if len(chunk) >= OPS_PER_MESSAGE or (chunk and size + item.size > budget):
                break
            chunk.append(item)
            size += item.size
        return chunk

    async def _run(self) -> None:
        node = self.node
        loop = asyncio.get_running_loop()
        budget = node.network.switchboard.max_message_bytes // 2
        while self.queue:
            chunk = self._chunk()
            results: list[Any] | None = None
            if len(chunk) == 1 and chunk[0].size > budget:
                log.error(
                    "%s: an op of %d bytes is larger than network '%s' carries (%d); not sent to %s",
                    node.agent[:12],
                    chunk[0].size,
                    node.network.name,
                    budget,
                    self.holder,
                )
            else:
                give_up = loop.time() + _RETRY_GIVE_UP
                delay = _RETRY_FIRST
                while True:
                    if not node.view.is_member(self.holder):
                        self.abandon("holder left")  # whoever holds for it now gets the data by gossip
                        return
                    try:
                        reply = await node.request(
                            self.holder, "hold", {"ops": [i.op for i in chunk]}, node.network.request_timeout
                        )
                        results = reply["results"]
                        if not isinstance(results, list) or len(results) != len(chunk):
                            raise NetworkError("the answer does not list every op")
                        break
                    except (NetworkError, KeyError, TypeError) as exc:
                        if loop.time() + delay > give_up:
                            log.error(
                                "%s: giving up publishing %d ops to %s: %s",
                                node.agent[:12],
                                len(chunk),
                                self.holder,
                                exc,
                            )
                            results = None
                            break
                        node.note_error(f"publishing to {self.holder} failed ({exc}); retrying")
                        log.debug(
                            "%s: publishing to %s failed (%s); retrying in %.2fs",
                            node.agent[:12],
                            self.holder,
                            exc,
                            delay,
                        )
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, _RETRY_MAX)
            for item in chunk:  # what left the queue while we waited (the holder left, the outbox overflowed) is gone
                if self.queue and self.queue[0] is item:
                    self._pop()
            if results is not None:
                node._note_results(results, self.holder)
            for position, item in enumerate(chunk):
                result = results[position] if results is not None else None
                if isinstance(result, list) and len(result) == 2 and result[1] == PENDING:
                    node._await_receipt(self.holder, result[0], item)
                else:
                    item.finish(result[1] if isinstance(result, list) and len(result) == 2 else "given up")
