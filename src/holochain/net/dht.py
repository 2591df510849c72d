"""The DHT logic, written once above any switchboard.

A :class:`Network` is what a conductor hands its instances: a switchboard
plus the DHT's parameters (redundancy, timeouts).  An instance *joins* it
with its DNA address (the space), its agent key and a :class:`NodeHandler`
(the instance's side: validate-and-hold, answer queries, receive direct
messages), and gets a :class:`DhtNode` with which it:

* **publishes** ops: each op goes to the holders of its basis address; a
  holder answers per op ``held``, ``rejected: <why>`` or ``pending`` (its
  dependencies have not arrived yet) and later sends a *receipt* for pending
  ones.  Each holder has its own bounded outbox, sent in order by one worker
  and retried with backoff while the holder is a member, so a slow or silent
  holder delays nobody else;
* **queries** entries and links: holders nearest the basis first, two at a
  time, within the caller's timeout; "no holder has it" (``None``) is told
  apart from "nobody answered in time" (:class:`RequestTimeout`);
* sends **direct messages** to another agent and fetches **validation
  packages** from authors;
* pushes to every **newcomer** what that newcomer should hold (the start of
  gossip; periodic anti-entropy comes with the real network engine).

Everything crossing the switchboard is a signed envelope (:mod:`.wire`).
Every node counts its outstanding work (deliveries, receipts awaited,
inbound handling, work its instance registers), so :meth:`Network.settled`
waits on the real state — everything published is held — never on a timer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
from typing import Any, Iterator, Protocol

from ..core.crypto import AgentKey
from .location import holders_for
from .memory import MemorySwitchboard
from .switchboard import NetworkError, RequestTimeout, Switchboard
from .wire import EnvelopeError, open_envelope, seal_envelope

__all__ = ["Network", "DhtNode", "NodeHandler", "DirectMessageError", "HELD", "PENDING", "REJECTED"]

log = logging.getLogger(__name__)

HELD = "held"
PENDING = "pending"
REJECTED = "rejected"
_OPS_PER_MESSAGE = 200
_QUERY_FANOUT = 2
_RETRY_FIRST = 0.05
_RETRY_MAX = 5.0
_RETRY_GIVE_UP = 300.0  # a holder that never answers is left to gossip after this long
_RECEIPT_WAIT = 300.0
_OUTBOX_LIMIT = 100_000  # ops queued for one holder
_private_names = itertools.count(1)


class DirectMessageError(NetworkError):
    """The recipient could not answer a direct message (its reason is the text)."""


class NodeHandler(Protocol):
    """The instance's side of a node (see :class:`holochain.instance.instance.Instance`)."""

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        """Validate and hold ops; ``[[op hash, "held" | "pending" | "rejected: …"], …]``."""
        ...

    def answer_entry(self, address: str) -> dict[str, Any] | None: ...

    def answer_links(self, base: str, query: dict[str, Any]) -> dict[str, Any] | None: ...

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str: ...

    def validation_package(self, header_address: str) -> dict[str, Any] | None: ...

    def sync_ops(self, agent: str, should_hold: Any) -> list[Any]: ...


class Network:
    """A switchboard plus the DHT parameters; instances join it per DNA."""

    def __init__(self, switchboard: Switchboard, *, redundancy: int = 0, request_timeout: float = 30.0,
                 name: str | None = None) -> None:
        self.switchboard = switchboard
        self.redundancy = max(0, int(redundancy))
        self.request_timeout = request_timeout
        self.name = name or getattr(switchboard, "name", "network")
        self.nodes: set[DhtNode] = set()

    @classmethod
    def private(cls) -> "Network":
        """A network of one: holochain-rust's default when no ``[network]`` is configured."""
        name = f"private-{next(_private_names)}"
        return cls(MemorySwitchboard(name), name=name)

    async def join(self, space: str, key: AgentKey, handler: NodeHandler) -> "DhtNode":
        node = DhtNode(self, space, key, handler)
        self.nodes.add(node)
        try:
            await self.switchboard.join(space, key.address, node)
        except BaseException:
            self.nodes.discard(node)
            raise
        return node

    def busy_nodes(self) -> list["DhtNode"]:
        return [n for n in self.nodes if n.busy]

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until every node of this network in this process is idle at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet_rounds = 0
        while quiet_rounds < 2:
            busy = self.busy_nodes()
            if not busy:
                quiet_rounds += 1
                await asyncio.sleep(0)
                continue
            quiet_rounds = 0
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"network '{self.name}' did not settle within {timeout:g}s: "
                    + "; ".join(n.describe_work() for n in busy)
                )
            try:
                await asyncio.wait_for(busy[0].idle.wait(), remaining)
            except asyncio.TimeoutError:
                continue

    def __repr__(self) -> str:
        return f"Network({self.name!r}, redundancy={self.redundancy}, nodes={len(self.nodes)})"


class DhtNode:
    """One agent's presence in one space (see the module docstring)."""

    def __init__(self, network: Network, space: str, key: AgentKey, handler: NodeHandler) -> None:
        self.network = network
        self.space = space
        self.key = key
        self.agent = key.address
        self.handler = handler
        self.closed = False
        self.idle = asyncio.Event()
        self.idle.set()
        self._busy = 0
        self._work: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outboxes: dict[str, _Outbox] = {}
        self._receipts: dict[tuple[str, str], list[_Item]] = {}

    # -- outstanding work (what consistency waits on) -----------------------------------------

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def begin(self, what: str) -> None:
        self._busy += 1
        self._work[what] = self._work.get(what, 0) + 1
        self.idle.clear()

    def end(self, what: str) -> None:
        self._busy -= 1
        count = self._work.get(what, 0) - 1
        if count > 0:
            self._work[what] = count
        else:
            self._work.pop(what, None)
        if self._busy <= 0:
            self._busy = 0
            self.idle.set()

    @contextlib.contextmanager
    def working(self, what: str) -> Iterator[None]:
        self.begin(what)
        try:
            yield
        finally:
            self.end(what)

    def outbox_sizes(self) -> dict[str, int]:
        """Ops waiting to be sent, per holder (what a slow or silent holder has piled up)."""
        return {holder: len(outbox.queue) for holder, outbox in self._outboxes.items() if outbox.queue}

    def describe_work(self) -> str:
        parts = ", ".join(f"{n} {w}" for w, n in sorted(self._work.items()))
        return f"{self.agent[:12]}… in {self.space[:12]}… has {parts or 'nothing'} outstanding"

    def spawn(self, what: str, coro: Any) -> "asyncio.Task[Any]":
        """Run ``coro`` as a task counted as outstanding work until it ends."""
        self.begin(what)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: "asyncio.Task[Any]") -> None:
            self._tasks.discard(t)
            self.end(what)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s: %s failed: %r", self.agent[:12], what, t.exception(), exc_info=t.exception())

        task.add_done_callback(done)
        return task

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Leave the space and stop all outstanding work."""
        if self.closed:
            return
        self.closed = True
        self.network.switchboard.leave(self.space, self.agent)
        self.network.nodes.discard(self)
        for task in list(self._tasks):
            task.cancel()
        for outbox in self._outboxes.values():
            outbox.abandon("this node left the network")
        self._outboxes.clear()
        for items in self._receipts.values():
            for item in items:
                item.finish("this node left the network")
        self._receipts.clear()

    # -- membership ------------------------------------------------------------------------

    def members(self) -> list[str]:
        return self.network.switchboard.members(self.space)

    def others(self) -> list[str]:
        return [m for m in self.members() if m != self.agent]

    def holders(self, basis: str) -> list[str]:
        """Other members that should hold ``basis``, nearest first."""
        return [a for a in holders_for(basis, self.members(), self.network.redundancy) if a != self.agent]

    def should_hold(self, agent: str, basis: str) -> bool:
        return agent in holders_for(basis, self.members(), self.network.redundancy)

    def on_membership(self, event: str, agent: str) -> None:
        if self.closed or agent == self.agent:
            return
        if event == "join":
            self.spawn("syncs to newcomers", self._sync_to(agent))
        elif event == "leave":
            outbox = self._outboxes.pop(agent, None)
            if outbox is not None:
                outbox.abandon("holder left")
            for key in [k for k in self._receipts if k[0] == agent]:
                for item in self._receipts.pop(key):
                    item.finish("holder left")

    async def _sync_to(self, agent: str) -> None:
        ops = self.handler.sync_ops(agent, lambda basis: self.should_hold(agent, basis))
        if ops:
            await self._enqueue(agent, ops, _Batch(self, len(ops)))

    # -- requests --------------------------------------------------------------------------

    async def request(self, to: str, kind: str, body: Any, timeout: float) -> Any:
        if self.closed:
            raise NetworkError("this node has left the network")
        data = seal_envelope(self.key, self.space, to, kind, body)
        reply = await self.network.switchboard.request(self.space, self.agent, to, data, timeout)
        try:
            _, reply_kind, reply_body = open_envelope(reply, space=self.space, to=self.agent, sender=to)
        except EnvelopeError as exc:
            raise NetworkError(f"bad reply from {to} to {kind}: {exc}") from None
        if reply_kind == "error":
            raise NetworkError(f"{to} refused {kind}: {reply_body}")
        return reply_body

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, ops: list[Any], bases: list[str]) -> "asyncio.Future[None]":
        """Queue each op (JSON) for the holders of its basis; resolves once every holder is done with it.

        ``bases[i]`` is the basis address of ``ops[i]``.  Each holder has its
        own outbox, so a slow or silent holder delays only itself.
        """
        per_holder: dict[str, list[Any]] = {}
        for op, basis in zip(ops, bases):
            for holder in self.holders(basis):
                per_holder.setdefault(holder, []).append(op)
        batch = _Batch(self, sum(len(v) for v in per_holder.values()))
        for holder, holder_ops in per_holder.items():
            self._outbox(holder).extend(holder_ops, batch)
        return batch.future

    async def _enqueue(self, holder: str, ops: list[Any], batch: "_Batch") -> None:
        self._outbox(holder).extend(ops, batch)
        await batch.future

    def _outbox(self, holder: str) -> "_Outbox":
        outbox = self._outboxes.get(holder)
        if outbox is None:
            outbox = self._outboxes[holder] = _Outbox(self, holder)
        return outbox

    def _await_receipt(self, holder: str, op_hash: str, item: "_Item") -> None:
        self._receipts.setdefault((holder, op_hash), []).append(item)

        def expire() -> None:
            items = self._receipts.get((holder, op_hash))
            if items is not None and item in items:
                items.remove(item)
                if not items:
                    del self._receipts[(holder, op_hash)]
                log.warning("%s: no receipt from %s for op %s", self.agent[:12], holder, op_hash)
                item.finish("no receipt")

        item.timer = asyncio.get_running_loop().call_later(_RECEIPT_WAIT, expire)

    def send_receipts(self, to: str, results: list[list[str]]) -> None:
        """Tell a publisher what became of ops we had answered ``pending``."""
        if self.closed or to not in self.members():
            return
        self.spawn("receipts", self._send_receipts(to, results))

    async def _send_receipts(self, to: str, results: list[list[str]]) -> None:
        try:
            await self.request(to, "receipt", {"results": results}, self.network.request_timeout)
        except NetworkError as exc:
            log.info("%s: could not send receipts to %s: %s", self.agent[:12], to, exc)

    # -- queries -----------------------------------------------------------------------------

    async def _ask_holders(self, basis: str, kind: str, body: Any, timeout: float, found: Any) -> Any:
        """Ask holders of ``basis`` two at a time; the first answer ``found`` accepts wins."""
        candidates = self.holders(basis)
        if not candidates:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        answered = timed_out = False
        for start in range(0, len(candidates), _QUERY_FANOUT):
            remaining = deadline - loop.time()
            if remaining <= 0:
                timed_out = True
                break
            wave = candidates[start:start + _QUERY_FANOUT]
            replies = await asyncio.gather(*(self.request(c, kind, body, remaining) for c in wave),
                                           return_exceptions=True)
            for reply in replies:
                if isinstance(reply, RequestTimeout):
                    timed_out = True
                elif isinstance(reply, BaseException):
                    if not isinstance(reply, NetworkError):
                        raise reply
                    log.debug("%s: %s query failed: %s", self.agent[:12], kind, reply)
                else:
                    answered = True
                    value = found(reply)
                    if value is not None:
                        return value
        if timed_out and not answered:
            raise RequestTimeout(f"no holder of {basis} answered within {timeout:g}s")
        return None

    async def get_entry(self, address: str, timeout: float) -> dict[str, Any] | None:
        """The record a holder keeps for ``address`` (see ``answer_entry``), or ``None``."""
        return await self._ask_holders(address, "get_entry", {"address": address}, timeout,
                                       lambda reply: reply.get("record") if isinstance(reply, dict) else None)

    async def get_links(self, base: str, query: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """A holder's answer for links on ``base``; ``None`` if no holder holds the base."""
        return await self._ask_holders(base, "get_links", {"base": base, "query": query}, timeout,
                                       lambda reply: reply.get("answer") if isinstance(reply, dict) else None)

    async def send_direct(self, to: str, zome: str, payload: str, timeout: float) -> str:
        if to == self.agent:
            return await self.handler.receive_direct(self.agent, zome, payload)
        reply = await self.request(to, "direct", {"zome": zome, "payload": payload}, timeout)
        if isinstance(reply, dict) and isinstance(reply.get("ok"), str):
            return reply["ok"]
        if isinstance(reply, dict) and isinstance(reply.get("err"), str):
            raise DirectMessageError(reply["err"])
        raise NetworkError(f"malformed reply to a direct message from {to}")

    async def get_validation_package(self, author: str, header_address: str, timeout: float) -> dict[str, Any] | None:
        if author == self.agent:
            return self.handler.validation_package(header_address)
        reply = await self.request(author, "validation_package", {"header_address": header_address}, timeout)
        package = reply.get("package") if isinstance(reply, dict) else None
        return package if isinstance(package, dict) else None

    # -- inbound -------------------------------------------------------------------------------

    async def on_message(self, sender: str, data: bytes) -> bytes:
        with self.working("inbound messages"):
            try:
                frm, kind, body = open_envelope(data, space=self.space, to=self.agent, sender=sender)
            except EnvelopeError as exc:
                log.warning("%s: refused a message from %s: %s", self.agent[:12], sender, exc)
                return seal_envelope(self.key, self.space, sender, "error", f"refused: {exc}")
            try:
                reply = await self._dispatch(frm, kind, body)
            except (KeyError, TypeError, ValueError) as exc:
                return seal_envelope(self.key, self.space, frm, "error", f"malformed {kind}: {exc}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # answer, log, and keep serving
                log.exception("%s: handling %s from %s failed", self.agent[:12], kind, frm)
                return seal_envelope(self.key, self.space, frm, "error", f"{kind} failed: {type(exc).__name__}: {exc}")
            return seal_envelope(self.key, self.space, frm, kind, reply)

    async def _dispatch(self, frm: str, kind: str, body: Any) -> Any:
        if kind == "hold":
            ops = body["ops"]
            if not isinstance(ops, list) or len(ops) > _OPS_PER_MESSAGE:
                raise ValueError(f"ops must be a list of at most {_OPS_PER_MESSAGE}")
            return {"results": await self.handler.hold_ops(ops, frm)}
        if kind == "receipt":
            for op_hash, status in body["results"]:
                for item in self._receipts.pop((frm, op_hash), ()):
                    item.finish(status)
            return {}
        if kind == "get_entry":
            address = body["address"]
            if not isinstance(address, str):
                raise TypeError("address must be a string")
            return {"record": self.handler.answer_entry(address)}
        if kind == "get_links":
            base, query = body["base"], body["query"]
            if not isinstance(base, str) or not isinstance(query, dict):
                raise TypeError("get_links needs a base string and a query object")
            return {"answer": self.handler.answer_links(base, query)}
        if kind == "direct":
            zome, payload = body["zome"], body["payload"]
            if not isinstance(zome, str) or not isinstance(payload, str):
                raise TypeError("a direct message has a zome and a string payload")
            try:
                return {"ok": await self.handler.receive_direct(frm, zome, payload)}
            except DirectMessageError as exc:
                return {"err": str(exc)}
        if kind == "validation_package":
            address = body["header_address"]
            if not isinstance(address, str):
                raise TypeError("header_address must be a string")
            return {"package": self.handler.validation_package(address)}
        raise ValueError(f"unknown message kind {kind!r}")

    def __repr__(self) -> str:
        return f"DhtNode({self.agent[:12]}… in {self.space[:12]}… on {self.network.name})"


class _Batch:
    """What one ``publish`` call waits for: every (holder, op) delivery to finish."""

    __slots__ = ("node", "remaining", "future")

    def __init__(self, node: DhtNode, count: int) -> None:
        self.node = node
        self.remaining = count
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if count == 0:
            self.future.set_result(None)

    def done_one(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0 and not self.future.done():
            self.future.set_result(None)


class _Item:
    """One op on its way to one holder: outstanding work until held, refused or given up."""

    __slots__ = ("op", "batch", "finished", "timer")

    def __init__(self, op: Any, batch: _Batch) -> None:
        self.op = op
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


class _Outbox:
    """The ops waiting for one holder, sent in order by one worker, retried with backoff.

    Bounded: past :data:`_OUTBOX_LIMIT` ops the oldest are given up (and
    logged); a holder that leaves gets nothing more.
    """

    def __init__(self, node: DhtNode, holder: str) -> None:
        self.node = node
        self.holder = holder
        self.queue: collections.deque[_Item] = collections.deque()
        self.worker: asyncio.Task[None] | None = None

    def extend(self, ops: list[Any], batch: _Batch) -> None:
        for op in ops:
            self.queue.append(_Item(op, batch))
        dropped = 0
        while len(self.queue) > _OUTBOX_LIMIT:
            self.queue.popleft().finish("outbox full")
            dropped += 1
        if dropped:
            log.error("%s: outbox to %s is full; gave up %d ops (newcomer sync and gossip bring them later)",
                      self.node.agent[:12], self.holder, dropped)
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self._run())
            self.node._tasks.add(self.worker)
            self.worker.add_done_callback(self.node._tasks.discard)

    def abandon(self, why: str) -> None:
        while self.queue:
            self.queue.popleft().finish(why)

    async def _run(self) -> None:
        node = self.node
        loop = asyncio.get_running_loop()
        while self.queue:
            chunk = [self.queue[i] for i in range(min(len(self.queue), _OPS_PER_MESSAGE))]
            give_up = loop.time() + _RETRY_GIVE_UP
            delay = _RETRY_FIRST
            while True:
                if self.holder not in node.members():
                    self.abandon("holder left")  # whoever holds for it now gets the data by sync
                    return
                try:
                    reply = await node.request(self.holder, "hold", {"ops": [i.op for i in chunk]},
                                               node.network.request_timeout)
                    results = reply["results"]
                    if not isinstance(results, list) or len(results) != len(chunk):
                        raise NetworkError("the answer does not list every op")
                    break
                except (NetworkError, KeyError, TypeError) as exc:
                    if loop.time() + delay > give_up:
                        log.error("%s: giving up publishing %d ops to %s: %s", node.agent[:12], len(chunk),
                                  self.holder, exc)
                        results = None
                        break
                    log.debug("%s: publishing to %s failed (%s); retrying in %.2fs", node.agent[:12],
                              self.holder, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX)
            for _ in chunk:
                self.queue.popleft()
            for position, item in enumerate(chunk):
                result = results[position] if results is not None else None
                if isinstance(result, list) and len(result) == 2 and result[1] == PENDING:
                    node._await_receipt(self.holder, result[0], item)
                else:
                    item.finish(result[1] if isinstance(result, list) and len(result) == 2 else "given up")
