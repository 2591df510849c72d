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
* **gossips** (anti-entropy, :mod:`.gossip`): every ``gossip_interval``
  seconds (jittered) it reconciles with one peer — a neighbour on the ring
  three times in four — the ops both should hold and what either authored
  that the other should hold: digests first, then lists of what differs;
  what it lacks it fetches from the op's *author* first, else from the peer
  that listed it (never a random node: holochain-rust's PR #1884), and what
  the peer lacks it pushes through the peer's outbox.  Everything fetched is
  validated before it is held, like anything published.  When an agent
  joins a node's view, the one of the two with the smaller id starts a
  round with the other at once: that is how newcomers (and agents coming
  back after a partition or a relay outage) catch up.

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
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from ..core import json as cjson
from ..core.address import address_of
from ..core.crypto import AgentKey
from ..core.progress import Progress
from .gossip import SLICES, GossipIndex, Scope, ScopeError, slice_bounds
from .location import RING, holders_for, holding_arcs, intersect, location, subtract
from .memory import MemorySwitchboard
from .switchboard import NetworkError, RequestTimeout, Switchboard, Unreachable
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
]

log = logging.getLogger(__name__)

HELD = "held"
PENDING = "pending"
REJECTED = "rejected"
DROPPED = "dropped"  # a holder let go of an op it could not hold yet (no longer its to hold)
_OPS_PER_MESSAGE = 200
_QUERY_FANOUT = 2
_RETRY_FIRST = 0.05
_RETRY_MAX = 5.0
_RETRY_GIVE_UP = 300.0  # a holder that never answers is left to gossip after this long
_RECEIPT_WAIT = 300.0
_RECEIPT_ATTEMPTS = 6
_OUTBOX_LIMIT = 100_000  # ops queued for one holder
_NEWCOMER_ATTEMPTS = 5
_GOSSIP_DEPTH = 4  # levels of slicing before listing (256^4 covers the ring)
_LEAF_ITEMS = 512  # a differing slice with at most this many ops is listed, not sliced further
_LIST_LIMIT = 4096  # ops listed per gossip round (more waits for the next round)
_FETCH_CHUNK = 64
_REMEMBERED = 65_536  # refusals remembered, so gossip does not offer or fetch them again
_NEIGHBOUR_SHARE = 0.75
_ROUNDS_IN_A_ROW = 64  # a round that could not list every difference is followed by another, this many at most
_EARLY_RECEIPTS = 16_384  # receipts that overtook the "pending" answer they settle
_KEPT = 50  # gossip rounds and errors remembered for the dashboard
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
        redundancy: int = 0,
        request_timeout: float = 30.0,
        gossip_interval: float = 1.0,
        name: str | None = None,
        owned: bool = False,
    ) -> None:
        self.switchboard = switchboard
        self.redundancy = max(0, int(redundancy))
        self.request_timeout = request_timeout
        self.gossip_interval = max(0.0, gossip_interval)
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
        if self.redundancy == 0:
            return True
        return all(len(n.members()) <= self.redundancy for n in self.nodes)

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
            names = ", ".join(sorted({n.network.name for n in busy}))
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
        for op_hash, basis, author in handler.held_items():
            self.index.add(op_hash, location(basis), author)

    def start(self) -> None:
        """Begin periodic gossip (once joined)."""
        if self.network.gossip_interval > 0 and not self.closed:
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

    # -- membership ------------------------------------------------------------------------

    def members(self) -> list[str]:
        return self.network.switchboard.members(self.space, self.agent)

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
            if self.agent < agent:  # one of the two starts the round: the smaller id
                self.spawn("syncs with newcomers", self._sync_with(agent))
        elif event == "leave":
            outbox = self._outboxes.pop(agent, None)
            if outbox is not None:
                outbox.abandon("holder left")
            for key in [k for k in self._receipts if k[0] == agent]:
                for item in self._receipts.pop(key):
                    item.finish("holder left")
            for peer in self._repair_peers(agent):
                self.spawn("repairs after churn", self._sync_with(peer))
        self.handler.peers_changed()

    def _repair_peers(self, gone: str) -> list[str]:
        """Whom to reconcile with now that ``gone`` left: arcs grew to cover what it held.

        If our own arc grew, the agents holding the part we gained; if
        another's grew over ops we authored, that agent (so what we wrote
        keeps R holders, even if all of them left).
        """
        members = self.members()
        if self.network.redundancy <= 0 or self.network.redundancy >= len(members) + 1:
            return []  # everyone held everything before, and still does
        before = holding_arcs(members + [gone], self.network.redundancy)
        after = holding_arcs(members, self.network.redundancy)
        peers: set[str] = set()
        mine = subtract(after.get(self.agent, []), before.get(self.agent, []))
        for agent in members:
            if agent == self.agent:
                continue
            if mine and intersect(mine, after.get(agent, [])):
                peers.add(agent)
            gained = subtract(after.get(agent, []), before.get(agent, []))
            if gained and self.index.listing(Scope([], self.agent, [], "", gained), gained, 1):
                peers.add(agent)  # it now holds some of what we authored
        return sorted(peers)

    async def _sync_with(self, agent: str) -> None:
        delay = 0.1
        for attempt in range(_NEWCOMER_ATTEMPTS):
            if self.closed or agent not in self.members():
                return
            try:
                outcome = await self.reconcile(agent)
                if not outcome["more"]:
                    return
                why = "differences left after its rounds"
            except NetworkError as exc:
                why = str(exc)
            self.note_error(f"syncing with {agent} failed ({why})")
            log.info(
                "%s: syncing with %s failed (%s); attempt %d of %d",
                self.agent[:12],
                agent[:12],
                why,
                attempt + 1,
                _NEWCOMER_ATTEMPTS,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 3, 5.0)

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

    def publish(self, ops: list[Any], bases: list[str], hashes: list[str] | None = None) -> asyncio.Future[None]:
        """Queue each op (JSON) for the holders of its basis; resolves once every holder is done with it.

        ``bases[i]`` is the basis address of ``ops[i]`` (``hashes[i]`` its
        hash, computed when not given).  Each holder has its own outbox, so a
        slow or silent holder delays only itself.
        """
        if hashes is None:
            hashes = [address_of(cjson.dumps(op)) for op in ops]
        per_holder: dict[str, list[tuple[str, Any, int]]] = {}
        for op, basis, op_hash in zip(ops, bases, hashes):
            holders = self.holders(basis)
            if holders:
                item = (op_hash, op, len(cjson.dumps_bytes(op)))
                for holder in holders:
                    per_holder.setdefault(holder, []).append(item)
        batch = _Batch(self, sum(len(v) for v in per_holder.values()))
        for holder, holder_ops in per_holder.items():
            self._outbox(holder).extend(holder_ops, batch)
        return batch.future

    def _outbox(self, holder: str) -> _Outbox:
        outbox = self._outboxes.get(holder)
        if outbox is None:
            outbox = self._outboxes[holder] = _Outbox(self, holder)
        return outbox

    def _await_receipt(self, holder: str, op_hash: str, item: _Item) -> None:
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
        if self.closed or to not in self.members():
            return
        self.spawn("receipts", self._send_receipts(to, results))

    async def _send_receipts(self, to: str, results: list[list[str]]) -> None:
        delay = _RETRY_FIRST
        for attempt in range(_RECEIPT_ATTEMPTS):
            try:
                await self.request(to, "receipt", {"results": results}, self.network.request_timeout)
                return
            except NetworkError as exc:
                if attempt + 1 == _RECEIPT_ATTEMPTS or to not in self.members():
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

    # -- gossip ---------------------------------------------------------------------------------

    def _refresh_authored(self) -> None:
        items, self._authored_from = self.handler.authored_items(self._authored_from)
        for op_hash, basis in items:
            self.index.add(op_hash, location(basis), self.agent)

    def _gossip_timeout(self) -> float:
        return min(self.network.request_timeout, max(5.0, 4 * self.network.gossip_interval))

    def _next_peer(self) -> str | None:
        members = self.members()
        others = [m for m in members if m != self.agent]
        if not others:
            return None
        arcs = holding_arcs(members, self.network.redundancy)
        mine = arcs.get(self.agent, [])
        neighbours = [m for m in others if intersect(mine, arcs.get(m, []))]
        pool = neighbours if neighbours and self._random.random() < _NEIGHBOUR_SHARE else others
        return self._random.choice(pool)

    async def _gossip_loop(self) -> None:
        interval = self.network.gossip_interval
        while not self.closed:
            await asyncio.sleep(interval * self._random.uniform(0.5, 1.5))
            peer = self._next_peer()
            if peer is None:
                continue
            try:
                await self.reconcile(peer)
            except NetworkError as exc:
                log.debug("%s: gossip with %s failed: %s", self.agent[:12], peer[:12], exc)
                self.note_error(f"gossip with {peer} failed: {exc}")
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("%s: gossip with %s: malformed answer: %s", self.agent[:12], peer[:12], exc)
                self.note_error(f"gossip with {peer}: malformed answer: {exc}")

    async def reconcile(self, peer: str) -> dict[str, int]:
        """Gossip rounds with ``peer`` until one could list every difference (bounded)."""
        total = {"fetched": 0, "pushed": 0, "rounds": 0, "more": 0}
        for _ in range(_ROUNDS_IN_A_ROW):
            outcome = await self.gossip_with(peer)
            total["fetched"] += outcome["fetched"]
            total["pushed"] += outcome["pushed"]
            total["rounds"] += 1
            total["more"] = outcome["more"]
            if not outcome["more"] or self.closed:
                break
        return total

    async def gossip_with(self, peer: str) -> dict[str, int]:
        """One anti-entropy round with ``peer``: how many ops were fetched and pushed, and
        whether more differences remain than one round lists (``more``)."""
        async with self._gossip_lock:
            if self.closed:
                return {"fetched": 0, "pushed": 0, "more": 0}
            self._refresh_authored()
            members = self.members()
            if peer not in members:
                raise Unreachable(f"{peer} is not in our view of the space")
            arcs = holding_arcs(members, self.network.redundancy)
            mine, theirs = arcs.get(self.agent, []), arcs.get(peer, [])
            scope = Scope(intersect(mine, theirs), self.agent, mine, peer, theirs)
            timeout = self._gossip_timeout()
            leaves, more = await self._differing(peer, scope, timeout)
            self.gossip_rounds += 1
            if not leaves:
                return {"fetched": 0, "pushed": 0, "more": 0}
            reply = await self.request(peer, "gossip_list", {"scope": scope.to_json(), "ranges": leaves}, timeout)
            listed = reply["items"]
            if not isinstance(listed, list):
                raise TypeError("items must be a list")
            their: dict[str, str] = {}
            for item in listed:
                if not (
                    isinstance(item, list)
                    and len(item) == 3
                    and isinstance(item[0], str)
                    and isinstance(item[1], str)
                    and isinstance(item[2], int)
                ):
                    raise TypeError(f"malformed gossip item {item!r}")
                if scope.admits(item[2], item[1]):
                    their[item[0]] = item[1]
            own = [h for h, _, _ in self.index.listing(scope, [tuple(r) for r in leaves], _LIST_LIMIT)]
            lacking = [
                (h, a)
                for h, a in their.items()
                if h not in self.index and a != self.agent and h not in self._refused and not self.handler.has_op(h)
            ]
            pushed = 0
            complete = len(listed) < _LIST_LIMIT and len(own) < _LIST_LIMIT
            if len(listed) < _LIST_LIMIT:  # a complete list: what it lacks, we can tell
                pushed = self._push(peer, [h for h in own if h not in their])
            fetched = unfetched = 0
            if lacking:
                with self.working("gossip repairs"):
                    fetched, unfetched = await self._fetch(lacking, peer, timeout)
            self.gossip_fetched += fetched
            self.gossip_pushed += pushed
            self.recent_rounds.append({"at": time.time(), "peer": peer, "fetched": fetched, "pushed": pushed})
            # ops no source could send (lost requests) are still differences: another round is due
            return {"fetched": fetched, "pushed": pushed, "more": int(more or not complete or unfetched > 0)}

    async def _differing(self, peer: str, scope: Scope, timeout: float) -> tuple[list[list[int]], bool]:
        """The slices of the ring where our digests and the peer's differ, small enough to list,
        and whether there are more than one round lists."""
        work: list[tuple[int, int]] = [(0, RING)]
        leaves: list[list[int]] = []
        expected = 0
        for depth in range(_GOSSIP_DEPTH):
            if not work:
                break
            batch, later = work[:SLICES], work[SLICES:]
            reply = await self.request(
                peer, "gossip_digest", {"scope": scope.to_json(), "ranges": batch, "slices": SLICES}, timeout
            )
            digests = reply["digests"]
            if not isinstance(digests, list) or len(digests) != len(batch):
                raise TypeError("one digest per range expected")
            work = []
            for (lo, hi), theirs in zip(batch, digests):
                mine = self.index.digest(scope, lo, hi, SLICES)
                if not isinstance(theirs, list) or len(theirs) != SLICES:
                    raise TypeError("a digest has one cell per slice")
                for i, (cell, their_cell) in enumerate(zip(mine, theirs)):
                    if cell == their_cell:
                        continue
                    sub_lo, sub_hi = slice_bounds(lo, hi, SLICES, i)
                    if sub_lo >= sub_hi:
                        continue
                    count = max(
                        cell[0],
                        their_cell[0]
                        if isinstance(their_cell, list) and their_cell and isinstance(their_cell[0], int)
                        else 0,
                    )
                    if count <= _LEAF_ITEMS or sub_hi - sub_lo <= SLICES or depth == _GOSSIP_DEPTH - 1:
                        if expected + count > _LIST_LIMIT and leaves:
                            return leaves, True  # the rest waits for the next round
                        leaves.append([sub_lo, sub_hi])
                        expected += count
                    else:
                        work.append((sub_lo, sub_hi))
            if later:
                return leaves, True
        return leaves, bool(work)

    def _push(self, peer: str, op_hashes: list[str]) -> int:
        outbox = self._outbox(peer)
        wanted = [h for h in op_hashes if (peer, h) not in self._refused_by and not outbox.sending(h)]
        if not wanted:
            return 0
        ops = self.handler.ops(wanted)
        if not ops:
            return 0
        batch = _Batch(self, len(ops))
        outbox.extend([(h, op, len(cjson.dumps_bytes(op))) for h, op in ops.items()], batch)
        return len(ops)

    async def _fetch(self, lacking: list[tuple[str, str]], peer: str, timeout: float) -> tuple[int, int]:
        """Fetch what we lack: from each op's author when it is here, else (or failing that) from the peer.
        Returns how many ops came and how many did not."""
        members = set(self.members())
        by_source: dict[str, list[str]] = {}
        for op_hash, author in lacking:
            source = author if author in members and author != self.agent else peer
            by_source.setdefault(source, []).append(op_hash)
        fetched = unfetched = 0
        with Progress(f"{self.agent[:12]}: catching up with {peer[:12]}", len(lacking), unit="ops") as progress:
            for source, hashes in by_source.items():
                got, missing = await self._fetch_from(source, hashes, timeout, progress)
                fetched += got
                if missing and source != peer:
                    got, missing = await self._fetch_from(peer, missing, timeout)
                    fetched += got
                unfetched += len(missing)
        return fetched, unfetched

    async def _fetch_from(
        self, source: str, hashes: list[str], timeout: float, progress: Progress | None = None
    ) -> tuple[int, list[str]]:
        """Fetch and hold ops from ``source``; returns how many came and the hashes that did not."""
        received = 0
        missing: list[str] = []
        for start in range(0, len(hashes), _FETCH_CHUNK):
            chunk = hashes[start : start + _FETCH_CHUNK]
            try:
                reply = await self.request(source, "gossip_fetch", {"hashes": chunk}, timeout)
            except NetworkError as exc:
                log.debug("%s: fetching from %s failed: %s", self.agent[:12], source[:12], exc)
                return received, missing + hashes[start:]
            ops = reply.get("ops") if isinstance(reply, dict) else None
            ops = ops[: len(chunk)] if isinstance(ops, list) else []
            results = await self.handler.hold_ops(ops, source) if ops else []
            self._note_results(results, None)
            got = {r[0] for r in results if isinstance(r, list) and r}
            received += len(got)
            missing += [h for h in chunk if h not in got]
            if progress is not None:
                progress.advance(len(chunk))
        return received, missing

    # -- queries -----------------------------------------------------------------------------

    async def _ask_holders(self, basis: str, kind: str, body: Any, timeout: float, found: Any) -> Any:
        """Ask holders of ``basis`` nearest first, two at a time, each for at most the network's
        request timeout; while time remains, holders that did not answer are asked again.
        The first answer ``found`` accepts wins."""
        candidates = self.holders(basis)
        if not candidates:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        answered = timed_out = False
        while candidates:
            silent = []
            for start in range(0, len(candidates), _QUERY_FANOUT):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    if timed_out and not answered:
                        raise RequestTimeout(f"no holder of {basis} answered within {timeout:g}s")
                    return None
                wave = candidates[start : start + _QUERY_FANOUT]
                each = min(remaining, self.network.request_timeout)
                replies = await asyncio.gather(
                    *(self.request(c, kind, body, each) for c in wave), return_exceptions=True
                )
                for candidate, reply in zip(wave, replies):
                    if isinstance(reply, RequestTimeout):
                        timed_out = True
                        silent.append(candidate)
                    elif isinstance(reply, BaseException):
                        if not isinstance(reply, NetworkError):
                            raise reply
                        log.debug("%s: %s query failed: %s", self.agent[:12], kind, reply)
                    else:
                        answered = True
                        value = found(reply)
                        if value is not None:
                            return value
            if answered or not silent:
                break
            candidates = silent  # nobody answered yet: ask again those that were silent
        if timed_out and not answered:
            raise RequestTimeout(f"no holder of {basis} answered within {timeout:g}s")
        return None

    async def get_entry(self, address: str, timeout: float) -> dict[str, Any] | None:
        """The record a holder keeps for ``address`` (see ``answer_entry``), or ``None``."""
        return await self._ask_holders(
            address,
            "get_entry",
            {"address": address},
            timeout,
            lambda reply: reply.get("record") if isinstance(reply, dict) else None,
        )

    async def get_links(self, base: str, query: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """A holder's answer for links on ``base``; ``None`` if no holder holds the base."""
        return await self._ask_holders(
            base,
            "get_links",
            {"base": base, "query": query},
            timeout,
            lambda reply: reply.get("answer") if isinstance(reply, dict) else None,
        )

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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:  # idempotent: asked again, within the time allowed, if an answer is lost
            each = max(0.001, min(deadline - loop.time(), self.network.request_timeout))
            try:
                reply = await self.request(author, "validation_package", {"header_address": header_address}, each)
                break
            except RequestTimeout:
                if deadline - loop.time() <= 0:
                    raise
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
            sealed = seal_envelope(self.key, self.space, frm, kind, reply)
            limit = self.network.switchboard.max_message_bytes
            if len(sealed) > limit:
                return seal_envelope(
                    self.key,
                    self.space,
                    frm,
                    "error",
                    f"the answer to {kind} ({len(sealed)} bytes) exceeds what network "
                    f"'{self.network.name}' carries ({limit} bytes)",
                )
            return sealed

    async def _dispatch(self, frm: str, kind: str, body: Any) -> Any:
        self.served[kind] += 1
        if kind == "hold":
            ops = body["ops"]
            if not isinstance(ops, list) or len(ops) > _OPS_PER_MESSAGE:
                raise ValueError(f"ops must be a list of at most {_OPS_PER_MESSAGE}")
            results = await self.handler.hold_ops(ops, frm)
            self._note_results(results, None)
            return {"results": results}
        if kind == "receipt":
            for op_hash, status in body["results"]:
                items = self._receipts.pop((frm, op_hash), None)
                if items is None:  # it may have overtaken the answer it settles: keep it a while
                    self._early[(frm, op_hash)] = status
                    while len(self._early) > _EARLY_RECEIPTS:
                        self._early.popitem(last=False)
                for item in items or ():
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
        if kind in ("gossip_digest", "gossip_list"):
            try:
                scope = Scope.from_json(body["scope"])
            except ScopeError as exc:
                raise ValueError(str(exc)) from None
            ranges = body["ranges"]
            if (
                not isinstance(ranges, list)
                or len(ranges) > SLICES
                or not all(
                    isinstance(r, list)
                    and len(r) == 2
                    and all(isinstance(v, int) for v in r)
                    and 0 <= r[0] < r[1] <= RING
                    for r in ranges
                )
            ):
                raise ValueError(f"ranges must be at most {SLICES} [lo, hi) pairs on the ring")
            self._refresh_authored()
            if kind == "gossip_list":
                return {"items": self.index.listing(scope, [(lo, hi) for lo, hi in ranges], _LIST_LIMIT)}
            slices = body["slices"]
            if not isinstance(slices, int) or not 1 <= slices <= SLICES:
                raise ValueError(f"slices must be 1 to {SLICES}")
            return {"digests": [self.index.digest(scope, lo, hi, slices) for lo, hi in ranges]}
        if kind == "gossip_fetch":
            hashes = body["hashes"]
            if (
                not isinstance(hashes, list)
                or len(hashes) > 4 * _FETCH_CHUNK
                or not all(isinstance(h, str) for h in hashes)
            ):
                raise ValueError(f"hashes must be a list of at most {4 * _FETCH_CHUNK} strings")
            self._refresh_authored()
            budget = self.network.switchboard.max_message_bytes // 2
            out, size = [], 0
            # only what we offer in gossip: what we hold for others, and our own public ops
            for op in self.handler.ops([h for h in hashes if h in self.index]).values():
                size += len(cjson.dumps(op))
                if out and size > budget:
                    break
                out.append(op)
            return {"ops": out}
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

    __slots__ = ("op_hash", "op", "size", "batch", "finished", "timer")

    def __init__(self, op_hash: str, op: Any, size: int, batch: _Batch) -> None:
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


class _Outbox:
    """The ops waiting for one holder, sent in order by one worker, retried with backoff.

    Bounded: past :data:`_OUTBOX_LIMIT` ops the oldest are given up (and
    logged; gossip brings them later); a holder that leaves gets nothing
    more.  A message carries at most :data:`_OPS_PER_MESSAGE` ops and half
    the switchboard's message limit in bytes.
    """

    def __init__(self, node: DhtNode, holder: str) -> None:
        self.node = node
        self.holder = holder
        self.queue: collections.deque[_Item] = collections.deque()
        self.queued: collections.Counter[str] = collections.Counter()
        self.worker: asyncio.Task[None] | None = None

    def sending(self, op_hash: str) -> bool:
        return op_hash in self.queued or (self.holder, op_hash) in self.node._receipts

    def extend(self, ops: list[tuple[str, Any, int]], batch: _Batch) -> None:
        """Queue ``(op hash, op, size in bytes)`` items."""
        for op_hash, op, size in ops:
            self.queue.append(_Item(op_hash, op, size, batch))
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

    def _pop(self) -> _Item:
        item = self.queue.popleft()
        self.queued[item.op_hash] -= 1
        if self.queued[item.op_hash] <= 0:
            del self.queued[item.op_hash]
        return item

    def abandon(self, why: str) -> None:
        while self.queue:
            self._pop().finish(why)

    def _chunk(self) -> list[_Item]:
        budget = self.node.network.switchboard.max_message_bytes // 2
        chunk: list[_Item] = []
        size = 0
        for item in self.queue:
            if len(chunk) >= _OPS_PER_MESSAGE or (chunk and size + item.size > budget):
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
                    if self.holder not in node.members():
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
