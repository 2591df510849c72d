"""A node's membership: its view of the space, kept by agent records, bootstrap and failures.

The membership side of :class:`~.dht.DhtNode` (a mixin).  The view
(:class:`~.peers.PeerView`) changes when the switchboard reports an agent of
the same conductor joining or leaving, when gossip or a bootstrap brings
records, when a request finds nobody there (``Unreachable``: that agent is
*down* here) and when a record expires.  Every change is handled once
(:meth:`Membership.view_changed`): outboxes and receipts for agents gone are
dropped, and the node reconciles with the few agents whose arcs now cover
what it gained, or what it authored — never with every member.

A newcomer on a relay asks one member (any: the relay picks; NATS queue
group) for the records it knows, nearest its own location first, then
gossips with its neighbours.  Each node signs its record again before it
expires (every ``info_ttl / 2``, jittered), after the relay comes back and
after finding that an agent it had marked down is back (so views that were
split learn each other again); leaving, it pushes a ``leaving`` record to
its neighbours.  All of it costs a node O(neighbours) messages, however
many agents the space has.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .gossip import Scope, digest_sum
from .location import holding_arcs, intersect, location, subtract
from .node_base import NodeBase
from .peers import AgentInfo, AgentInfoError
from .switchboard import NetworkError, RequestTimeout, Unreachable

__all__ = ["Membership", "ANYONE"]

log = logging.getLogger(__name__)

ANYONE = "*"  # a request to any one member of the space (the switchboard picks)
_BOOTSTRAP_INFOS = 1024  # records handed to a newcomer
_EXCHANGE_INFOS = 512  # records sent per gossip exchange
_BOOTSTRAP_ASKS = 3
_BOOTSTRAP_ENOUGH = 3  # records news enough that gossip can take over
_FAREWELL_TO = 8  # neighbours told of a leave
_NEWCOMER_ATTEMPTS = 5
_RESIGN_EVERY = 10.0  # s: at most this often after finding agents back
_SUSPECT_HINTS = 4  # neighbours of an agent found down who are told to check it themselves
_SUSPECT_PROBES = (0.5, 1.5)  # s: an unreachable agent is asked again after these; down if never there


class Membership(NodeBase):
    """Membership of :class:`~.dht.DhtNode` (see the module docstring)."""

    # -- what others ask --------------------------------------------------------------------

    def members(self) -> list[str]:
        return list(self.view.members())

    def others(self) -> list[str]:
        return [m for m in self.view.members() if m != self.agent]

    def is_member(self, agent: str) -> bool:
        return self.view.is_member(agent)

    def holders(self, basis: str) -> list[str]:
        """Other members that should hold ``basis``, nearest first."""
        return [a for a in self.view.holders(basis) if a != self.agent]

    def should_hold(self, agent: str, basis: str) -> bool:
        return agent in self.view.holders(basis)

    # -- our record -----------------------------------------------------------------------------

    def my_info(self) -> AgentInfo:
        """Our current record, signed again when it is half way to expiry (or on :meth:`resign`).

        The arc it states is the one we held when it was signed: holders are
        worked out from who is there, so the record need not follow every
        change of our arc (each new record costs every member a delivery)."""
        now = self.network.clock()
        info = self._info
        if info is None or now - info.signed_at > self.network.info_ttl_ms // 2:
            arc = self._my_arc()
            info = self._info = AgentInfo.sign(self.sign, self.space, self.agent, arc, now, self.network.info_ttl_ms)
            self.view.set_own(info)
        return info

    def _my_arc(self) -> tuple[int, int] | None:
        arc = self.view.arc(self.agent)
        if not arc or arc == [(0, 1 << 32)]:
            return None
        if len(arc) == 2:  # wraps: [(0, end), (start, RING)]
            return (arc[1][0], arc[0][1])
        return arc[0]

    def resign(self) -> None:
        """Sign our record afresh (it spreads with the next gossip rounds)."""
        self._info = None
        self._last_resign = asyncio.get_running_loop().time()
        self.my_info()

    # -- changes --------------------------------------------------------------------------------

    def on_membership(self, event: str, agent: str) -> None:
        """The switchboard reports an agent it reaches directly joining or leaving."""
        if self.closed or agent == self.agent:
            return
        before = self.view.members()
        if event == "join":
            self.view.add_local(agent)
        elif event == "leave":
            self.view.remove_local(agent)
        self.view_changed(before)

    def on_reconnected(self) -> None:
        """The relay connection is back: sign afresh, and bootstrap again if we are alone."""
        if self.closed:
            return
        self.resign()
        if not self.others() and not self.view.authoritative and not self._work.get("bootstrap"):
            self.spawn("bootstrap", self.bootstrap())

    def tick(self) -> None:
        """Periodic housekeeping (every gossip interval): records expire."""
        before = self.view.members()
        if self.view.expire(self.network.clock()):
            self.view_changed(before)

    def heard(self, agent: str) -> None:
        """A genuine message came from ``agent``."""
        before = self.view.members()
        if self.view.heard_from(agent):
            self.view_changed(before)
            self._maybe_resign()

    def unreachable(self, agent: str) -> None:
        """A request found nobody subscribed for ``agent``: suspect it, and ask it again in a
        moment (its connection may be failing over); still nobody there, it is down here."""
        if agent in self._suspects or not self.view.is_member(agent) or agent in self.view.local:
            return
        self._suspects.add(agent)
        self.spawn("checks of unreachable agents", self._confirm_down(agent))

    async def _confirm_down(self, agent: str) -> None:
        try:
            for delay in _SUSPECT_PROBES:
                await asyncio.sleep(delay * self._random.uniform(0.8, 1.2))
                if self.closed or not self.view.is_member(agent):
                    return
                try:
                    await self.request(agent, "peer_infos", {"infos": []}, self._gossip_timeout())
                    return  # it answered: not down after all
                except Unreachable:
                    continue
                except NetworkError:
                    return  # it is there but slow, or we are offline: not evidence that it is gone
            before = self.view.members()
            if self.view.mark_down(agent, self.network.clock()):
                log.info("%s: %s is unreachable: down in our view", self.agent[:12], agent[:12])
                self.view_changed(before)
                # its other neighbours are told to look for themselves (a hint, never a verdict)
                for peer in self.view.nearest(location(agent), _SUSPECT_HINTS, self.others()):
                    self.notify(peer, "peer_infos", {"infos": [], "suspect": [agent]})
        finally:
            self._suspects.discard(agent)

    def merge_infos(self, values: Any) -> int:
        """Records from the network: each verified unless we have it or a newer one already
        (a signature check is the dearest thing a node does); returns how many were news."""
        if not isinstance(values, list):
            raise TypeError("infos must be a list")
        before = self.view.members()
        now = self.network.clock()
        news = revived = 0
        for value in values[: self.view.capacity]:
            if isinstance(value, dict) and not self.view.newer(value.get("agent"), value.get("signed_at")):
                continue
            try:
                info = AgentInfo.from_json(value, self.space, self.network.verify, now)
            except AgentInfoError as exc:
                log.debug("%s: ignored an agent record: %s", self.agent[:12], exc)
                continue
            was_down = info.agent in self.view.down
            if self.view.merge(info):
                news += 1
                revived += was_down and info.agent not in self.view.down
        if news:
            self.view_changed(before)
        if revived:
            self._maybe_resign()
        return news

    def _maybe_resign(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_resign > _RESIGN_EVERY:
            self.resign()

    def view_changed(self, before: frozenset[str]) -> None:
        after = self.view.members()
        if after == before:
            return
        left = before - after
        for agent in left:
            outbox = self._outboxes.pop(agent, None)
            if outbox is not None:
                outbox.abandon("holder left")
            for key in [k for k in self._receipts if k[0] == agent]:
                for item in self._receipts.pop(key):
                    item.finish("holder left")
        if not self.closed and not self._resync_due:
            self._resync_due = True
            self.spawn("syncs after membership changes", self._resync())
        self.handler.peers_changed()

    async def _resync(self) -> None:
        """Reconcile with whom the changes since the last resync call for (the changes of one
        moment — a newcomer learning a whole space — are taken together)."""
        await asyncio.sleep(0)
        self._resync_due = False
        before, after = self._synced_members, self.view.members()
        self._synced_members = after
        for peer in self._peers_to_reconcile(before, after, bool(before - after)):
            self.spawn("syncs after membership changes", self._sync_with(peer))

    def _peers_to_reconcile(self, before: frozenset[str], after: frozenset[str], someone_left: bool) -> list[str]:
        """Whom to reconcile with after a change: those holding what our arc gained (a newcomer
        counts its whole arc as gained), and — when someone left — those whose arcs grew over
        ops we authored (so what we wrote keeps R holders even if all of them left)."""
        redundancy = self.network.redundancy
        me = self.agent
        old = holding_arcs(sorted(before), redundancy) if len(before) > 1 else {}
        new = holding_arcs(sorted(after), redundancy)
        gained = subtract(new.get(me, []), old.get(me, []))
        peers: list[str] = []
        if gained:
            overlapping = [a for a in after if a != me and intersect(gained, new[a])]
            limit = max(3, 2 * redundancy)
            if len(overlapping) > limit:  # with full sync, any few hold everything
                overlapping = self.view.nearest(location(me), limit, overlapping)
            peers += overlapping
        if len(before) > 1:  # newcomers whose arcs overlap ours: we sync with them too (it pulls, we push)
            for agent in after - before:
                if agent != me and intersect(new[agent], new.get(me, [])):
                    peers.append(agent)
        if someone_left and len(before) > 1:
            for agent in sorted(after):
                if agent == me or agent in peers:
                    continue
                grew = subtract(new[agent], old.get(agent, []))
                if grew and self.index.listing(Scope([], me, [], "", grew), grew, 1):
                    peers.append(agent)
        return sorted(set(peers))

    async def _sync_with(self, agent: str) -> None:
        delay = 0.1
        for attempt in range(_NEWCOMER_ATTEMPTS):
            if self.closed or not self.view.is_member(agent):
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

    # -- bootstrap, exchange, farewell ------------------------------------------------------------

    async def bootstrap(self) -> None:
        """Ask a member (any: the relay picks) for the records it knows; again, a little later,
        while the answers are nearly empty (members that joined at the same moment)."""
        delay = 0.2
        for _ in range(_BOOTSTRAP_ASKS):
            if self.closed:
                return
            try:
                news = await self.meet_anyone()
            except RequestTimeout:
                continue
            except NetworkError as exc:  # nobody else is there (yet): newcomers will find us
                log.debug("%s: bootstrap: %s", self.agent[:12], exc)
                return
            if news >= _BOOTSTRAP_ENOUGH:
                return  # gossip with the neighbours brings the rest
            await asyncio.sleep(delay * self._random.uniform(0.5, 1.5))
            delay *= 3

    async def meet_anyone(self) -> int:
        """Exchange records with one member picked by the relay: a newcomer's bootstrap, and
        now and then for everyone, so that groups that know nothing of each other (joined
        at the same moment, or split for a while) meet.  Returns how many records were news."""
        body: dict[str, Any] = {"info": self.my_info().to_json()}
        if self.view.infos:
            body["peers"] = self.view.digest()
        frm, reply = await self.request_from(ANYONE, "bootstrap", body, self._gossip_timeout())
        return await self.exchange_infos(frm, reply, self._gossip_timeout())

    def answer_bootstrap(self, frm: str, body: Any) -> Any:
        self.merge_infos([body["info"]])
        if "peers" in body:  # someone who knows the space already: only what differs
            return self.answer_digest_infos(frm, body)
        infos = [self.my_info()] + self.view.sample(location(frm), _BOOTSTRAP_INFOS)
        return {"infos": [i.to_json() for i in infos]}

    async def exchange_infos(self, peer: str, reply: Any, timeout: float) -> int:
        """After the first digest of a round: take the records the peer sent; if its digest of
        records differs from ours, send ours for the slices that differ and take its records
        for them.  Returns how many records moved."""
        if not isinstance(reply, dict):
            raise TypeError("a reply with agent records is an object")
        news = self.merge_infos(reply.get("infos", []))
        theirs = reply.get("peers")
        if theirs is None:
            return news
        self.my_info()
        slices = self.view.differing(theirs)
        if not slices:
            return news
        mine = self.view.infos_in(slices, _EXCHANGE_INFOS)
        answer = await self.request(peer, "peer_infos", {"infos": [i.to_json() for i in mine], "want": slices}, timeout)
        news += self.merge_infos(answer.get("infos", []) if isinstance(answer, dict) else [])
        return news + len(mine)

    def answer_digest_infos(self, frm: str, body: dict[str, Any]) -> dict[str, Any]:
        """The agent-record part of a reply to ``gossip_digest`` or ``bootstrap``: nothing when
        the sums agree; our digest when they differ (the asker then sends what differs); the
        records of the differing slices when the asker sent its whole digest."""
        if self.view.authoritative:
            return {}
        self.my_info()
        if "peers_sum" in body:
            if body["peers_sum"] == digest_sum(self.view.digest()):
                return {}
            return {"peers": self.view.digest()}
        if body.get("peers") is None:
            return {}
        slices = self.view.differing(body["peers"])
        infos = self.view.infos_in(slices, _EXCHANGE_INFOS) if slices else []
        return {"peers": self.view.digest(), "infos": [i.to_json() for i in infos]}

    def answer_wanted_infos(self, want: list[int]) -> dict[str, Any]:
        if not want or self.view.authoritative:
            return {}
        return {"infos": [i.to_json() for i in self.view.infos_in(want, _EXCHANGE_INFOS)]}

    def farewell(self) -> None:
        """Leaving: a ``leaving`` record to the nearest neighbours (best effort, not awaited)."""
        if self.view.authoritative or not self.others():
            return
        now = self.network.clock()
        info = AgentInfo.sign(self.sign, self.space, self.agent, None, now, self.network.info_ttl_ms, leaving=True)
        body = {"infos": [info.to_json()]}
        for peer in self.view.nearest(location(self.agent), _FAREWELL_TO, self.others()):
            self.notify(peer, "peer_infos", body)

    # -- what a dashboard draws ---------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """A read-only picture of this node: its peers and their arcs, ops held, gossip done."""
        view = self.view
        return {
            "agent": self.agent,
            "space": self.space,
            "location": location(self.agent),
            "arc": [list(r) for r in view.arc(self.agent)],
            "redundancy": self.network.redundancy,
            "peers": [
                {"agent": a, "location": location(a), "arc": [list(r) for r in view.arc(a)], "local": a in view.local}
                for a in sorted(view.members(), key=location)
                if a != self.agent
            ],
            "down": sorted(view.down),
            "records": len(view.infos),
            "held_ops": len(self.index),
            "gossip_rounds": self.gossip_rounds,
            "served": dict(self.served),
            "asked": dict(self.asked),
            "outboxes": self.outbox_sizes(),
        }
