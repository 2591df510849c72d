"""The DHT logic, written once above any switchboard.

A :class:`Network` is what a conductor hands its instances: a switchboard
plus the DHT's parameters (redundancy, timeouts, gossip interval).  An
instance *joins* it with its DNA address (the space), its agent key and a
:class:`NodeHandler` (the instance's side: validate-and-hold, answer
queries, receive direct messages, list and serve its ops), and gets a
:class:`DhtNode` with which it:

* **publishes** ops: each op goes to the holders of its basis address; a
  holder answers per op ``held``, ``rejected: <why>`` or ``pending`` (its
  dependencies have not arrived yet) and later sends a *receipt* for pending
  ones.  Each holder has its own bounded outbox, sent in order by one worker
  in messages bounded in count and bytes, retried with backoff while the
  holder is a member, so a slow or silent holder delays nobody else;
* **queries** entries and links: holders nearest the basis first, two at a
  time, within the caller's timeout; "no holder has it" (``None``) is told
  apart from "nobody answered in time" (:class:`RequestTimeout`);
* sends **direct messages** to another agent and fetches **validation
  packages** from authors;
* **gossips** (anti-entropy, :mod:`.rounds`): every ``gossip_interval``
  seconds (jittered) it reconciles with one peer — a neighbour on the ring
  three times in four — the ops both should hold and what either authored
  that the other should hold; after a membership change it reconciles at
  once with the few agents whose arcs cover what its own arc gained (a
  newcomer: its whole arc), and with the newcomers whose arcs overlap its;
* keeps its **membership** (:mod:`.membership`, :mod:`.peers`): signed
  agent records spread by the same rounds, a newcomer's bootstrap from one
  member, agents found gone by requests nobody answers.

The parts live in modules of their own and share :class:`~.node_base.NodeBase`;
messages and their schemas are :mod:`.messages`, the inbound side
:mod:`.inbound`, publishing to one holder :mod:`.outbox`.

Everything crossing the switchboard is a signed envelope (:mod:`.wire`).
Every node counts its outstanding work (deliveries, receipts awaited,
inbound handling, newcomer syncs, gossip repairs, work its instance
registers), so :func:`settle` waits on the real state — everything
published is held — never on a timer.  Periodic gossip rounds that find
nothing to repair are not work.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ..core import json as cjson
from ..core.address import address_of
from ..core.crypto import AgentKey, PublicKeyError, verify
from .gossip import GossipIndex
from .inbound import Inbound
from .location import location
from .membership import ANYONE, Membership
from .memory_switchboard import MemorySwitchboard
from .outbox import DROPPED, HELD, PENDING, REJECTED, Batch, Item, Outbox
from .peers import PeerView
from .queries import DirectMessageError, Queries
from .rounds import GossipRounds
from .switchboard import NetworkError, Switchboard, Unreachable
from .wire import EnvelopeError, open_envelope, seal_envelope

__all__ = [
    "Network",
    "DhtNode",
    "NodeHandler",
    "DirectMessageError",
    "settle",
    "HELD",
    "PENDING",
    "REJECTED",
    "DROPPED",
    "DEFAULT_REDUNDANCY",
]

log = logging.getLogger(__name__)

DEFAULT_REDUNDANCY = 5  # R when a [network] table does not say: arcs at any size (0 asks for full sync)
_RECEIPT_WAIT = 300.0
_RECEIPT_ATTEMPTS = 6
_RETRY_FIRST = 0.05
_RETRY_MAX = 5.0
_REMEMBERED = 65_536  # refusals remembered, so gossip does not offer or fetch them again
_INFO_TTL_MS = 20 * 60_000  # agent records expire after this long unless signed again (Kitsune: 20 min)
_KEPT = 50  # gossip rounds and errors remembered for the dashboard
_private_names = itertools.count(1)


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _verify(agent: str, signature: str, text: str) -> bool:
    try:
        return verify(agent, signature, text)
    except PublicKeyError:
        return False


class NodeHandler(Protocol):
    """The instance's side of a node (see :class:`holochain.instance.instance.Instance`)."""

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        """Validate and hold ops; ``[[op hash, "held" | "pending" | "rejected: …"], …]``."""
        ...

    def answer_entry(self, address: str) -> dict[str, Any] | None: ...

    def answer_links(self, base: str, query: dict[str, Any]) -> dict[str, Any] | None: ...

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str: ...

    def validation_package(self, header_address: str) -> dict[str, Any] | None: ...

    def held_items(self) -> Iterable[tuple[str, str, str]]:
        """``(op hash, basis, author)`` of every op held for others (read once, at join)."""
        ...

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        """``(op hash, basis)`` of the public ops of our chain from record ``start`` on, and
        the record to start from next time."""
        ...

    def ops(self, op_hashes: list[str]) -> dict[str, Any]:
        """op hash → op (JSON), for those of ``op_hashes`` that we hold or authored."""
        ...

    def has_op(self, op_hash: str) -> bool:
        """Whether the op is held here or waiting for its dependencies."""
        ...

    def peers_changed(self) -> None:
        """Someone joined or left our view of the space."""
        ...


class Network:
    """A switchboard plus the DHT parameters; instances join it per DNA.

    ``owned``: the network made its switchboard (a relay connection) and
    closes it in :meth:`close`.
    """

    def __init__(
        self,
        switchboard: Switchboard,
        *,
        redundancy: int = DEFAULT_REDUNDANCY,
        request_timeout: float = 30.0,
        gossip_interval: float = 1.0,
        name: str | None = None,
        owned: bool = False,
        info_ttl: float = _INFO_TTL_MS / 1000,
        clock: Callable[[], int] = _wall_ms,
        verify: Callable[[str, str, str], bool] = _verify,
    ) -> None:
        self.switchboard = switchboard
        self.redundancy = max(0, int(redundancy))
        self.request_timeout = request_timeout
        self.gossip_interval = max(0.0, gossip_interval)
        self.info_ttl_ms = max(1000, int(info_ttl * 1000))
        self.clock = clock  # wall-clock ms (agent records carry times other machines compare)
        self.verify = verify
        self.name = name or getattr(switchboard, "name", "network")
        self.owned = owned
        self.is_private = False
        self.nodes: set[DhtNode] = set()

    @classmethod
    def private(cls) -> Network:
        """A network of one: holochain-rust's default when no ``[network]`` is configured."""
        name = f"private-{next(_private_names)}"
        network = cls(MemorySwitchboard(name), name=name, gossip_interval=0.0)
        network.is_private = True
        return network

    async def join(self, space: str, key: AgentKey, handler: NodeHandler) -> DhtNode:
        node = DhtNode(self, space, key, handler)
        self.nodes.add(node)
        try:
            await self.switchboard.join(space, key.address, node)
        except BaseException:
            self.nodes.discard(node)
            raise
        node.start()
        return node

    def busy_nodes(self) -> list[DhtNode]:
        return [n for n in self.nodes if n.busy]

    @property
    def full_sync(self) -> bool:
        """Whether every member of every space holds everything (so every node sees every op)."""
        return all(n.view.full_sync() for n in self.nodes)

    def stats(self) -> list[dict[str, Any]]:
        """What each node of this network in this process sees (for a dashboard; read-only)."""
        return [node.stats() for node in sorted(self.nodes, key=lambda n: (n.space, n.agent))]

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until every node of this network in this process is idle at once."""
        await settle([self], timeout)

    async def close(self) -> None:
        """Every node leaves; a relay connection this network made is closed."""
        for node in list(self.nodes):
            node.close()
        if self.owned:
            await self.switchboard.close()

    def __repr__(self) -> str:
        return f"Network({self.name!r}, redundancy={self.redundancy}, nodes={len(self.nodes)})"


async def settle(networks: Iterable[Network], timeout: float = 30.0) -> None:
    """Wait until every node of ``networks`` (in this process) is idle at once."""
    networks = list(networks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_rounds = 0
    while quiet_rounds < 2:
        busy = [node for network in networks for node in network.busy_nodes()]
        if not busy:
            quiet_rounds += 1
            await asyncio.sleep(0)
            continue
        quiet_rounds = 0
        remaining = deadline - loop.time()
        if remaining <= 0:
            names = ", ".join(sorted({str(n.network.name) for n in busy}))
            raise TimeoutError(
                f"network '{names}' did not settle within {timeout:g}s: " + "; ".join(n.describe_work() for n in busy)
            )
        try:
            await asyncio.wait_for(busy[0].idle.wait(), remaining)
        except TimeoutError:
            continue


def _remember(cache: collections.OrderedDict[Any, None], key: Any) -> None:
    cache[key] = None
    cache.move_to_end(key)
    while len(cache) > _REMEMBERED:
        cache.popitem(last=False)


class DhtNode(Membership, GossipRounds, Queries, Inbound):
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
        self._outboxes: dict[str, Outbox] = {}
        self._receipts: dict[tuple[str, str], list[Item]] = {}
        self._early: collections.OrderedDict[tuple[str, str], str] = collections.OrderedDict()
        self.index = GossipIndex()
        self._authored_from = 0
        self._refused: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._refused_by: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()
        self._gossip_lock = asyncio.Lock()
        self._random = random.Random()
        self.gossip_rounds = 0
        # what gossip repaired, and what went wrong lately (read by the dashboard and /metrics)
        self.gossip_fetched = 0
        self.gossip_pushed = 0
        self.recent_rounds: collections.deque[dict[str, Any]] = collections.deque(maxlen=_KEPT)
        self.recent_errors: collections.deque[tuple[float, str]] = collections.deque(maxlen=_KEPT)
        self.served: collections.Counter[str] = collections.Counter()  # requests answered, by kind
        self.asked: collections.Counter[str] = collections.Counter()  # requests sent, by kind
        self.view = PeerView(
            self.agent, network.redundancy, authoritative=getattr(network.switchboard, "announces_all", False)
        )
        self._info = None
        self._last_resign = 0.0
        self._resync_due = False
        self._synced_members: frozenset[str] = frozenset({self.agent})
        self._suspects: set[str] = set()
        for op_hash, basis, author in handler.held_items():
            self.index.add(op_hash, location(basis), author)

    def start(self) -> None:
        """Begin periodic gossip (once joined); on a relay, bootstrap from a member."""
        if self.closed:
            return
        if not self.view.authoritative:
            self.spawn("bootstrap", self.bootstrap())
        if self.network.gossip_interval > 0:
            task = asyncio.ensure_future(self._gossip_loop())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

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

    def note_error(self, what: str) -> None:
        """Remember a failure for the dashboard (the last few are kept)."""
        self.recent_errors.append((time.time(), what[:500]))

    def describe_work(self) -> str:
        parts = ", ".join(f"{n} {w}" for w, n in sorted(self._work.items()))
        return f"{self.agent[:12]}… in {self.space[:12]}… has {parts or 'nothing'} outstanding"

    def spawn(self, what: str, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` as a task counted as outstanding work until it ends."""
        self.begin(what)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
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
        try:
            self.farewell()
        except Exception:  # leaving must not fail for a goodbye that could not go out
            log.exception("%s: could not say goodbye", self.agent[:12])
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

    def sign(self, text: str) -> str:
        return self.key.sign(text)

    # -- requests --------------------------------------------------------------------------

    async def request(self, to: str, kind: str, body: Any, timeout: float) -> Any:
        """Send a signed request and open the signed reply (see :meth:`request_from`)."""
        return (await self.request_from(to, kind, body, timeout))[1]

    async def request_from(self, to: str, kind: str, body: Any, timeout: float) -> tuple[str, Any]:
        """Send a signed request and open the signed reply: ``(who answered, body)``; ``to``
        may be :data:`ANYONE`.

        Nobody subscribed for ``to`` (:class:`Unreachable`) marks it down in
        our view; any genuine reply marks it there."""
        if self.closed:
            raise NetworkError("this node has left the network")
        data = seal_envelope(self.key, self.space, to, kind, body)
        self.asked[kind] += 1
        try:
            reply = await self.network.switchboard.request(self.space, self.agent, to, data, timeout)
        except Unreachable:
            if to != ANYONE and not self.closed:
                self.unreachable(to)
            raise
        try:
            frm, reply_kind, reply_body = open_envelope(
                reply, space=self.space, to=self.agent, sender=None if to == ANYONE else to
            )
        except EnvelopeError as exc:
            raise NetworkError(f"bad reply from {to} to {kind}: {exc}") from None
        self.heard(frm)
        if reply_kind == "error":
            raise NetworkError(f"{to} refused {kind}: {reply_body}")
        return frm, reply_body

    def notify(self, to: str, kind: str, body: Any) -> None:
        """A signed message that wants no answer (best effort: a goodbye)."""
        data = seal_envelope(self.key, self.space, to, kind, body)
        send = getattr(self.network.switchboard, "notify", None)
        if send is not None:
            send(self.space, self.agent, to, data)

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, ops: list[Any], bases: list[str], hashes: list[str] | None = None) -> asyncio.Future[None]:
        """Queue each op (JSON) for the holders of its basis; resolves once every holder is done with it.

        ``bases[i]`` is the basis address of ``ops[i]`` (``hashes[i]`` its
        hash, computed when not given).  Each holder has its own outbox, so a
        slow or silent holder delays only itself.
        """
        if hashes is None:
            hashes = [address_of(cjson.dumps(op)) for op in ops]
        per_holder: dict[str, list[tuple[str, Any, int]]] = {}
        self.view.holders("")  # (the ring is sorted once per membership change, not per op)
        for op, basis, op_hash in zip(ops, bases, hashes):
            holders = self.holders(basis)
            if holders:
                item = (op_hash, op, len(cjson.dumps_bytes(op)))
                for holder in holders:
                    per_holder.setdefault(holder, []).append(item)
        batch = Batch(self, sum(len(v) for v in per_holder.values()))
        for holder, holder_ops in per_holder.items():
            self._outbox(holder).extend(holder_ops, batch)
        return batch.future

    def _outbox(self, holder: str) -> Outbox:
        outbox = self._outboxes.get(holder)
        if outbox is None:
            outbox = self._outboxes[holder] = Outbox(self, holder)
        return outbox

    def _await_receipt(self, holder: str, op_hash: str, item: Item) -> None:
        early = self._early.pop((holder, op_hash), None)
        if early is not None:  # the holder settled it before its "pending" answer reached us
            item.finish(early)
            return
        self._receipts.setdefault((holder, op_hash), []).append(item)

        def expire() -> None:
            items = self._receipts.get((holder, op_hash))
            if items is not None and item in items:
                items.remove(item)
                if not items:
                    del self._receipts[(holder, op_hash)]
                log.warning("%s: no receipt from %s for op %s", self.agent[:12], holder, op_hash)
                self.note_error(f"no receipt from {holder} for op {op_hash}")
                item.finish("no receipt")

        item.timer = asyncio.get_running_loop().call_later(_RECEIPT_WAIT, expire)

    def send_receipts(self, to: str, results: list[list[str]]) -> None:
        """Tell a publisher what became of ops we had answered ``pending``."""
        if self.closed or not self.view.is_member(to):
            return
        self.spawn("receipts", self._send_receipts(to, results))

    async def _send_receipts(self, to: str, results: list[list[str]]) -> None:
        delay = _RETRY_FIRST
        for attempt in range(_RECEIPT_ATTEMPTS):
            try:
                await self.request(to, "receipt", {"results": results}, self.network.request_timeout)
                return
            except NetworkError as exc:
                if attempt + 1 == _RECEIPT_ATTEMPTS or not self.view.is_member(to):
                    log.info("%s: could not send receipts to %s: %s", self.agent[:12], to, exc)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 4, _RETRY_MAX)

    def note_held(self, op_hash: str, basis: str, author: str) -> None:
        """The instance now holds this op: it is offered in gossip from now on."""
        self.index.add(op_hash, location(basis), author)

    def _note_results(self, results: list[list[str]], holder: str | None) -> None:
        for result in results:
            if (
                isinstance(result, list)
                and len(result) == 2
                and isinstance(result[1], str)
                and result[1].startswith(REJECTED)
            ):
                if holder is None:
                    _remember(self._refused, result[0])
                else:
                    _remember(self._refused_by, (holder, result[0]))

    def __repr__(self) -> str:
        return f"DhtNode({self.agent[:12]}… in {self.space[:12]}… on {self.network.name})"
