"""Membership without all-to-all traffic: signed agent-info records and one node's view of them.

Each agent signs an :class:`AgentInfo` — who it is, the arc it holds, when
it signed and when the record expires — as Kitsune does.  Records spread
with the gossip rounds a node has anyway: each round carries a digest of
the records the sender knows (a count and an XOR per slice of the ring), and
only the slices that differ are exchanged.  A newcomer asks one member
(any one: the relay picks) for the records it knows and then gossips with its
neighbours; nobody broadcasts.  Liveness comes from traffic itself: a
request that finds nobody subscribed marks the agent *down* in this view
(an unsigned, local opinion, never gossiped as a fact); a message from
it, or a record it signed after being marked down, brings it back.  A
graceful leave is a record with ``leaving`` set, pushed to the neighbours
and gossiped like any other.

:class:`PeerView` is pure state (time is passed in, nothing is sent): the
members as this node sees them, the holders of a basis (the ``R`` members
nearest it, clockwise, found by bisection in a ring kept sorted and rebuilt
only when membership changes) and the arc of each member.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core import json as cjson
from ..core.errors import NetworkError
from .location import RING, Ranges, location

__all__ = ["AgentInfo", "AgentInfoError", "PeerView", "INFO_SLICES", "MAX_PEERS"]

INFO_SLICES = 64
_INFO_SHIFT = 26  # location >> 26: one of 64 slices
MAX_PEERS = 100_000  # records one view keeps
_MAX_INFO_BYTES = 2048
_CLOCK_SKEW_MS = 5 * 60_000  # a record signed further in the future than this is refused


class AgentInfoError(NetworkError, ValueError):
    """A malformed, forged or stale agent-info record; the text says which."""


def _h48(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=6).digest(), "little")


@dataclass(frozen=True)
class AgentInfo:
    """One agent's signed statement of presence in a space (see the module docstring)."""

    space: str
    agent: str
    arc: tuple[int, int] | None  # the [lo, hi) part of the ring it holds (hi may wrap past lo); None: all
    signed_at: int  # ms since the epoch
    expires_at: int
    leaving: bool
    sig: str

    @staticmethod
    def signed_text(space: str, agent: str, arc: Any, signed_at: int, expires_at: int, leaving: bool) -> str:
        return cjson.dumps(
            {
                "space": space,
                "agent": agent,
                "arc": arc,
                "signed_at": signed_at,
                "expires_at": expires_at,
                "leaving": leaving,
            }
        )

    @classmethod
    def sign(
        cls,
        signer: Callable[[str], str],
        space: str,
        agent: str,
        arc: tuple[int, int] | None,
        signed_at: int,
        ttl_ms: int,
        leaving: bool = False,
    ) -> AgentInfo:
        arc_json = list(arc) if arc is not None else None
        expires_at = signed_at + ttl_ms
        sig = signer(cls.signed_text(space, agent, arc_json, signed_at, expires_at, leaving))
        return cls(space, agent, arc, signed_at, expires_at, leaving, sig)

    def to_json(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "agent": self.agent,
            "arc": list(self.arc) if self.arc is not None else None,
            "signed_at": self.signed_at,
            "expires_at": self.expires_at,
            "leaving": self.leaving,
            "sig": self.sig,
        }

    @classmethod
    def from_json(cls, value: Any, space: str, verify: Callable[[str, str, str], bool], now_ms: int) -> AgentInfo:
        """Check a record received from the network (shape, space, freshness, signature)."""
        if not isinstance(value, dict):
            raise AgentInfoError("an agent info is a JSON object")
        agent, arc, signed_at, expires_at = (value.get(k) for k in ("agent", "arc", "signed_at", "expires_at"))
        signed_at = signed_at if isinstance(signed_at, int) and not isinstance(signed_at, bool) else None
        expires_at = expires_at if isinstance(expires_at, int) and not isinstance(expires_at, bool) else None
        leaving, sig = value.get("leaving"), value.get("sig")
        if value.get("space") != space:
            raise AgentInfoError(f"agent info for space {value.get('space')!r}, not {space}")
        if not isinstance(agent, str) or not isinstance(sig, str) or not isinstance(leaving, bool):
            raise AgentInfoError("agent info lacks agent, sig or leaving")
        if signed_at is None or expires_at is None:
            raise AgentInfoError("agent info times must be integers (ms)")
        if arc is not None and not (
            isinstance(arc, list)
            and len(arc) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= RING for v in arc)
        ):
            raise AgentInfoError(f"agent info arc {arc!r} is not [lo, hi] on the ring")
        if expires_at <= now_ms:
            raise AgentInfoError("agent info has expired")
        if signed_at > now_ms + _CLOCK_SKEW_MS or expires_at < signed_at:
            raise AgentInfoError("agent info is signed in the future or expires before it was signed")
        if not verify(agent, sig, cls.signed_text(space, agent, arc, signed_at, expires_at, leaving)):
            raise AgentInfoError(f"agent info signature does not verify for {agent}")
        return cls(space, agent, tuple(arc) if arc is not None else None, signed_at, expires_at, leaving, sig)

    @property
    def digest_hash(self) -> int:
        return _h48(f"{self.agent}:{self.signed_at}")


class PeerView:
    """One node's view of its space (see the module docstring).

    ``local`` agents are those the switchboard itself reports (agents of the
    same conductor, or of the same in-process network): they are members
    while the switchboard says so, with no record needed.  When the
    switchboard reports *every* member (``authoritative``), records add
    nobody.
    """

    def __init__(self, me: str, redundancy: int, *, authoritative: bool = False, capacity: int = MAX_PEERS) -> None:
        self.me = me
        self.redundancy = redundancy
        self.authoritative = authoritative
        self.capacity = capacity
        self.local: set[str] = {me}
        self.infos: dict[str, AgentInfo] = {}
        self.own: AgentInfo | None = None  # our own record (in digests, so peers that have it agree)
        self.down: dict[str, int] = {}  # agent -> when (ms) a request found nobody there
        self.version = 0
        self._members: frozenset[str] | None = None
        self._ring: list[tuple[int, str]] | None = None
        self._ring_locs: list[int] = []
        self._digest: list[list[int]] | None = None

    # -- what changes it ---------------------------------------------------------------------

    def _changed(self, members: bool = True) -> None:
        self._digest = None
        if members:
            self.version += 1
            self._members = None
            self._ring = None

    def set_own(self, info: AgentInfo) -> None:
        if info is not self.own:
            self.own = info
            self._digest = None

    def _records(self) -> Iterable[AgentInfo]:
        yield from self.infos.values()
        if self.own is not None:
            yield self.own

    def add_local(self, agent: str) -> None:
        if agent not in self.local:
            self.local.add(agent)
            self.down.pop(agent, None)
            self._changed()

    def remove_local(self, agent: str) -> None:
        if agent in self.local and agent != self.me:
            self.local.discard(agent)
            self._changed()

    def merge(self, info: AgentInfo) -> bool:
        """Keep ``info`` if it is newer than what we have; ``True`` if it was."""
        if info.agent == self.me:
            return False
        have = self.infos.get(info.agent)
        if have is not None and have.signed_at >= info.signed_at:
            return False
        if have is None and len(self.infos) >= self.capacity:
            return False
        self.infos[info.agent] = info
        down = self.down.get(info.agent)
        if down is not None and info.signed_at > down:
            del self.down[info.agent]
        self._changed()
        return True

    def newer(self, agent: Any, signed_at: Any) -> bool:
        """Whether a record of ``agent`` signed at ``signed_at`` would be news (before checking it)."""
        if agent == self.me:
            return False
        have = self.infos.get(agent) if isinstance(agent, str) else None
        return have is None or not isinstance(signed_at, int) or signed_at > have.signed_at

    def mark_down(self, agent: str, now_ms: int) -> bool:
        """A request found nobody there; ``True`` if that removed a member."""
        if agent in self.local or agent not in self.infos or agent in self.down:
            return False
        self.down[agent] = now_ms
        self._changed()
        return True

    def heard_from(self, agent: str) -> bool:
        """A signed message came from ``agent``: it is there; ``True`` if that brought it back."""
        if self.down.pop(agent, None) is None:
            return False
        self._changed()
        return True

    def expire(self, now_ms: int) -> list[str]:
        """Forget records past their expiry; returns the agents forgotten."""
        gone = [a for a, i in self.infos.items() if i.expires_at <= now_ms]
        for agent in gone:
            del self.infos[agent]
            self.down.pop(agent, None)
        if gone:
            self._changed()
        return gone

    # -- what it tells -----------------------------------------------------------------------

    def members(self) -> frozenset[str]:
        if self._members is None:
            remote: Iterable[str] = ()
            if not self.authoritative:
                remote = (a for a, i in self.infos.items() if not i.leaving and a not in self.down)
            self._members = frozenset(self.local).union(remote)
        return self._members

    def is_member(self, agent: str) -> bool:
        return agent in self.members()

    def _sorted(self) -> list[tuple[int, str]]:
        if self._ring is None:
            self._ring = sorted((location(a), a) for a in self.members())
            self._ring_locs = [loc for loc, _ in self._ring]
        return self._ring

    def full_sync(self) -> bool:
        return self.redundancy <= 0 or self.redundancy >= len(self.members())

    def holders(self, basis: str) -> list[str]:
        """The members that should hold ``basis``, nearest (clockwise distance to it) first."""
        ring = self._sorted()
        n = len(ring)
        count = n if self.full_sync() else self.redundancy
        target = location(basis)
        # the member at or before ``target`` (counter-clockwise) is nearest; ties by agent id
        start = bisect.bisect_right(self._ring_locs, target) - 1
        out: list[str] = []
        i = start
        while len(out) < count:
            out.append(ring[i % n][1])
            i -= 1
        if count == n and n > 1:
            out.sort(key=lambda a: ((target - location(a)) % RING, a))
        else:
            _order_ties(out, target)
        return out

    def arc(self, agent: str) -> Ranges:
        """The part of the ring ``agent`` holds in this view: from its location to the location of
        the member ``R`` places after it clockwise (all of it with full sync)."""
        if self.full_sync():
            return [(0, RING)] if self.is_member(agent) else []
        ring = self._sorted()
        loc = location(agent)
        i = bisect.bisect_left(ring, (loc, agent))
        if i >= len(ring) or ring[i][1] != agent:
            return []
        end = ring[(i + self.redundancy) % len(ring)][0]
        return _interval(loc, end)

    def neighbours(self, agent: str) -> list[str]:
        """The members whose arcs overlap ``agent``'s: ``R`` places either side on the ring
        (everyone else with full sync)."""
        if self.full_sync():
            return [m for m in self.members() if m != agent]
        ring = self._sorted()
        i = bisect.bisect_left(ring, (location(agent), agent))
        if i >= len(ring) or ring[i][1] != agent:
            return []
        n = len(ring)
        out = {ring[(i + d) % n][1] for d in range(-self.redundancy, self.redundancy + 1)}
        out.discard(agent)
        return sorted(out)

    def nearest(self, loc: int, count: int, among: Iterable[str] | None = None) -> list[str]:
        """Up to ``count`` members, by ring distance (either way) from ``loc``."""
        pool = list(self.members() if among is None else among)
        pool.sort(key=lambda a: (min((location(a) - loc) % RING, (loc - location(a)) % RING), a))
        return pool[:count]

    def digest(self) -> list[list[int]]:
        """``[[count, xor], …]`` of the records known, per slice of the ring (by agent location)."""
        if self._digest is None:
            out = [[0, 0] for _ in range(INFO_SLICES)]
            for info in self._records():
                cell = out[location(info.agent) >> _INFO_SHIFT]
                cell[0] += 1
                cell[1] ^= info.digest_hash
            self._digest = out
        return self._digest

    def differing(self, theirs: Any) -> list[int]:
        """The slices where ``theirs`` (a peer's :meth:`digest`) differs from ours."""
        if not isinstance(theirs, list) or len(theirs) != INFO_SLICES:
            raise ValueError(f"an agent-info digest has {INFO_SLICES} cells")
        mine = self.digest()
        return [i for i in range(INFO_SLICES) if mine[i] != theirs[i]]

    def infos_in(self, slices: Iterable[int], limit: int) -> list[AgentInfo]:
        wanted = set(slices)
        out = [i for i in self._records() if location(i.agent) >> _INFO_SHIFT in wanted]
        return out[:limit]

    def sample(self, loc: int, limit: int) -> list[AgentInfo]:
        """What to hand a newcomer at ``loc``: the records nearest it first."""
        near = self.nearest(loc, limit, self.infos)
        return [self.infos[a] for a in near]


def _order_ties(agents: list[str], target: int) -> None:
    agents.sort(key=lambda a: ((target - location(a)) % RING, a))


def _interval(start: int, end: int) -> Ranges:
    if start < end:
        return [(start, end)]
    if start > end:
        return [(0, end), (start, RING)] if end > 0 else [(start, RING)]
    return []
