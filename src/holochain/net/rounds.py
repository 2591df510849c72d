"""Gossip rounds (anti-entropy) between two nodes, and the agent records they carry.

Every ``gossip_interval`` seconds (jittered, slower while rounds find
nothing) a node reconciles with one peer — a ring neighbour three times in
four — the ops both should hold and what either authored that the other
should hold (:class:`~.gossip.Scope`): digests first, then lists of what
differs; what it lacks it fetches from the op's *author* first, else from
the peer that listed it (never a random node: holochain-rust's PR #1884),
and what the peer lacks it pushes through the peer's outbox.  The first
request of a round also carries the digest of the agent records the node
knows; the reply brings the records of the slices that differ and the
node sends back what the peer lacks (:mod:`.peers`).  Everything fetched
is validated before it is held, like anything published.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..core import json as cjson
from ..core.progress import Progress
from .gossip import SLICES, Scope, digest_sum, slice_bounds
from .location import RING, intersect, location
from .node_base import NodeBase
from .outbox import Batch
from .switchboard import NetworkError, Unreachable

__all__ = ["GossipRounds", "LIST_LIMIT", "FETCH_CHUNK"]

log = logging.getLogger(__name__)

_GOSSIP_DEPTH = 4  # levels of slicing before listing (256^4 covers the ring)
_LEAF_ITEMS = 512  # a differing slice with at most this many ops is listed, not sliced further
LIST_LIMIT = 4096  # ops listed per gossip round (more waits for the next round)
FETCH_CHUNK = 64
_NEIGHBOUR_SHARE = 0.75
_PROBE_SHARE = 0.1  # rounds spent on an agent marked down (is it back?)
_MEET_SHARE = 1 / 30  # rounds that also exchange records with a member the relay picks
_ROUNDS_IN_A_ROW = 64  # a round that could not list every difference is followed by another, this many at most


class GossipRounds(NodeBase):
    """The gossip side of :class:`~.dht.DhtNode` (a mixin: it uses the node's view, index,
    handler, outboxes and requests)."""

    def _refresh_authored(self) -> None:
        items, self._authored_from = self.handler.authored_items(self._authored_from)
        for op_hash, basis in items:
            self.index.add(op_hash, location(basis), self.agent)

    def _gossip_timeout(self) -> float:
        return min(self.network.request_timeout, max(5.0, 4 * self.network.gossip_interval))

    def _next_peer(self) -> str | None:
        """Whom to gossip with: a ring neighbour (whose arc overlaps ours) three times in four,
        else anyone; now and then an agent marked down, to find out whether it is back."""
        view = self.view
        if view.down and self._random.random() < _PROBE_SHARE:
            return self._random.choice(sorted(view.down))
        neighbours = view.neighbours(self.agent)
        if neighbours and self._random.random() < _NEIGHBOUR_SHARE:
            return self._random.choice(neighbours)
        others = [m for m in view.members() if m != self.agent]
        return self._random.choice(others) if others else None

    async def _gossip_loop(self) -> None:
        interval = self.network.gossip_interval
        quiet = 0
        while not self.closed:
            # jittered; a node whose rounds keep finding nothing slows down (up to 4x), and any
            # change (a repair, a new record, a membership change) brings it back to speed
            stretch = min(4.0, 1.0 + quiet / 8)
            await asyncio.sleep(interval * stretch * self._random.uniform(0.5, 1.5))
            self.tick()
            if not self.view.authoritative and self._random.random() < _MEET_SHARE:
                try:
                    await self.meet_anyone()
                except NetworkError as exc:
                    log.debug("%s: meeting anyone: %s", self.agent[:12], exc)
            peer = self._next_peer()
            if peer is None:
                continue
            version = self.view.version
            try:
                outcome = await self.reconcile(peer)
                busy = outcome["fetched"] or outcome["pushed"] or outcome["infos"]
            except NetworkError as exc:
                busy = True
                log.debug("%s: gossip with %s failed: %s", self.agent[:12], peer[:12], exc)
                self.note_error(f"gossip with {peer} failed: {exc}")
            except (KeyError, TypeError, ValueError) as exc:
                busy = True
                log.warning("%s: gossip with %s: malformed answer: %s", self.agent[:12], peer[:12], exc)
                self.note_error(f"gossip with {peer}: malformed answer: {exc}")
            quiet = 0 if busy or self.view.version != version else quiet + 1

    async def reconcile(self, peer: str) -> dict[str, int]:
        """Gossip rounds with ``peer`` until one could list every difference (bounded)."""
        total = {"fetched": 0, "pushed": 0, "rounds": 0, "more": 0, "infos": 0}
        for _ in range(_ROUNDS_IN_A_ROW):
            outcome = await self.gossip_with(peer)
            total["fetched"] += outcome["fetched"]
            total["pushed"] += outcome["pushed"]
            total["infos"] += outcome.get("infos", 0)
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
            view = self.view
            if peer not in view.members() and peer not in view.down:
                raise Unreachable(f"{peer} is not in our view of the space")
            mine, theirs = view.arc(self.agent), view.arc(peer)
            scope = Scope(intersect(mine, theirs), self.agent, mine, peer, theirs)
            timeout = self._gossip_timeout()
            leaves, more, infos = await self._differing(peer, scope, timeout)
            self.gossip_rounds += 1
            if not leaves:
                return {"fetched": 0, "pushed": 0, "more": 0, "infos": infos}
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
            own = [h for h, _, _ in self.index.listing(scope, [(r[0], r[1]) for r in leaves], LIST_LIMIT)]
            lacking = [
                (h, a)
                for h, a in their.items()
                if h not in self.index and a != self.agent and h not in self._refused and not self.handler.has_op(h)
            ]
            pushed = 0
            complete = len(listed) < LIST_LIMIT and len(own) < LIST_LIMIT
            if len(listed) < LIST_LIMIT:  # a complete list: what it lacks, we can tell
                pushed = self._push(peer, [h for h in own if h not in their])
            fetched = unfetched = 0
            if lacking:
                with self.working("gossip repairs"):
                    fetched, unfetched = await self._fetch(lacking, peer, timeout)
            self.gossip_fetched += fetched
            self.gossip_pushed += pushed
            self.recent_rounds.append({"at": time.time(), "peer": peer, "fetched": fetched, "pushed": pushed})
            # ops no source could send (lost requests) are still differences: another round is due
            return {
                "fetched": fetched,
                "pushed": pushed,
                "more": int(more or not complete or unfetched > 0),
                "infos": infos,
            }

    async def _differing(self, peer: str, scope: Scope, timeout: float) -> tuple[list[list[int]], bool, int]:
        """The slices of the ring where our digests and the peer's differ, small enough to list,
        whether there are more than one round lists, and how many agent records changed hands
        (the first request carries our agent-info digest; see :mod:`.peers`)."""
        work: list[tuple[int, int]] = [(0, RING)]
        leaves: list[list[int]] = []
        expected = 0
        infos = 0
        for depth in range(_GOSSIP_DEPTH):
            if not work:
                break
            batch, later = work[:SLICES], work[SLICES:]
            body: dict[str, Any] = {"scope": scope.to_json(), "ranges": batch, "slices": SLICES}
            if depth == 0:  # first, sums only: a round between nodes that agree carries no digests
                body["sum"] = digest_sum(self.index.digest(scope, 0, RING, SLICES))
                if not self.view.authoritative:
                    self.my_info()  # (signed again when due; our own record is in the digest)
                    body["peers_sum"] = digest_sum(self.view.digest())
            reply = await self.request(peer, "gossip_digest", body, timeout)
            if depth == 0 and "peers_sum" in body:
                infos = await self.exchange_infos(peer, reply, timeout)
            if depth == 0 and reply.get("same"):
                return [], False, infos
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
                        if expected + count > LIST_LIMIT and leaves:
                            return leaves, True, infos  # the rest waits for the next round
                        leaves.append([sub_lo, sub_hi])
                        expected += count
                    else:
                        work.append((sub_lo, sub_hi))
            if later:
                return leaves, True, infos
        return leaves, bool(work), infos

    def _push(self, peer: str, op_hashes: list[str]) -> int:
        outbox = self._outbox(peer)
        wanted = [h for h in op_hashes if (peer, h) not in self._refused_by and not outbox.sending(h)]
        if not wanted:
            return 0
        ops = self.handler.ops(wanted)
        if not ops:
            return 0
        batch = Batch(self, len(ops))
        outbox.extend([(h, op, len(cjson.dumps_bytes(op))) for h, op in ops.items()], batch)
        return len(ops)

    async def _fetch(self, lacking: list[tuple[str, str]], peer: str, timeout: float) -> tuple[int, int]:
        """Fetch what we lack: from each op's author when it is here, else (or failing that) from the peer.
        Returns how many ops came and how many did not."""
        members = self.view.members()
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
        for start in range(0, len(hashes), FETCH_CHUNK):
            chunk = hashes[start : start + FETCH_CHUNK]
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
