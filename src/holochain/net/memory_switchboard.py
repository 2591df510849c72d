"""An in-process switchboard: agents in one Python process share a DHT.

Used for ``hc run``, for conductors with ``[network] type = "memory"`` and
for tests.  Messages are ``bytes`` handed to the recipient's inbox on the
event loop, each request in its own task, so a slow recipient never blocks
the sender beyond its timeout.

Faults can be injected for tests, deterministically (a seeded RNG):

* ``delay(seconds)`` slows every delivery;
* ``drop(agent)`` makes an agent's inbox swallow requests (senders time out);
* ``loss(rate)`` loses that fraction of messages, the request or (after the
  recipient acted on it) the reply, so the sender times out;
* ``duplicate(rate)`` delivers that fraction of requests twice;
* ``partition(groups)`` splits the space: only agents in the same group
  reach each other, and each side sees the other *leave* (as a relay's
  presence expires); ``heal()`` undoes every fault and each side sees the
  other *join* again;
* ``kill(agent)`` removes an agent abruptly, as a SIGKILL would: it reaches
  nobody, nobody reaches it, the others see it leave.
"""

from __future__ import annotations

import asyncio
import logging
import random

from .switchboard import Inbox, RequestTimeout, Unreachable

__all__ = ["MemorySwitchboard"]

log = logging.getLogger(__name__)


class MemorySwitchboard:
    """An in-process switchboard: every agent of a space in this process, with the faults tests
    inject (delay, drop, partition, loss, duplication) drawn from a seeded random source."""

    max_message_bytes = 64 * 1024 * 1024
    announces_all = True  # every agent is in this process: its membership events are complete

    def __init__(self, name: str = "memory", *, seed: int = 0) -> None:
        self.name = name
        self._spaces: dict[str, dict[str, Inbox]] = {}
        self._delay = 0.0
        self._dropped: set[str] = set()
        self._killed: set[str] = set()
        self._groups: list[set[str]] | None = None
        self._loss = 0.0
        self._duplicate = 0.0
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task[bytes]] = set()

    # -- membership ---------------------------------------------------------------------

    async def join(self, space: str, agent: str, inbox: Inbox) -> None:
        members = self._spaces.setdefault(space, {})
        if agent in members and members[agent] is not inbox:
            raise ValueError(f"agent {agent} is already in space {space} on network '{self.name}'")
        self._killed.discard(agent)
        others = list(members.items())
        members[agent] = inbox
        for other, other_inbox in others:
            if self._reachable(agent, other):
                inbox.on_membership("join", other)
                other_inbox.on_membership("join", agent)

    def leave(self, space: str, agent: str) -> None:
        members = self._spaces.get(space, {})
        if members.pop(agent, None) is None:
            return
        for other, other_inbox in list(members.items()):
            if self._reachable(agent, other):
                other_inbox.on_membership("leave", agent)
        if not members:
            self._spaces.pop(space, None)

    def members(self, space: str, viewer: str | None = None) -> list[str]:
        members = self._spaces.get(space, {})
        if viewer is None or self._groups is None:
            return list(members)
        return [m for m in members if m == viewer or self._reachable(viewer, m)]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # -- faults (tests) ------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        self._delay = max(0.0, seconds)

    def drop(self, agent: str, dropped: bool = True) -> None:
        (self._dropped.add if dropped else self._dropped.discard)(agent)

    def loss(self, rate: float, seed: int | None = None) -> None:
        self._loss = min(max(rate, 0.0), 1.0)
        if seed is not None:
            self._random.seed(seed)

    def duplicate(self, rate: float) -> None:
        self._duplicate = min(max(rate, 0.0), 1.0)

    def partition(self, groups: list[set[str]]) -> None:
        before = self._view_pairs()
        self._groups = [set(g) for g in groups]
        self._announce(before)

    def kill(self, agent: str) -> None:
        """The agent vanishes without leaving (its process died); the others see it leave."""
        for space, members in list(self._spaces.items()):
            if members.pop(agent, None) is not None:
                for other, inbox in list(members.items()):
                    if self._reachable(agent, other):
                        inbox.on_membership("leave", agent)
            if not members:
                self._spaces.pop(space, None)
        self._killed.add(agent)

    def heal(self) -> None:
        before = self._view_pairs()
        self._groups = None
        self._dropped.clear()
        self._delay = self._loss = self._duplicate = 0.0
        self._announce(before)

    def _reachable(self, sender: str, to: str) -> bool:
        if self._groups is None:
            return True
        return any(sender in g and to in g for g in self._groups)

    def _view_pairs(self) -> set[tuple[str, str, str]]:
        return {
            (space, a, b)
            for space, members in self._spaces.items()
            for a in members
            for b in members
            if a != b and self._reachable(a, b)
        }

    def _announce(self, before: set[tuple[str, str, str]]) -> None:
        """Tell each member who it stopped and started seeing."""
        after = self._view_pairs()
        for event, pairs in (("leave", before - after), ("join", after - before)):
            for space, viewer, other in sorted(pairs):
                inbox = self._spaces.get(space, {}).get(viewer)
                if inbox is not None:
                    inbox.on_membership(event, other)

    # -- delivery ---------------------------------------------------------------------------

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes:
        if not isinstance(data, bytes):
            raise TypeError("only bytes cross a switchboard")
        if sender in self._killed:
            raise Unreachable(f"agent {sender} is not on network '{self.name}'")
        if to == "*":  # any one other member (a bootstrap)
            others = [m for m in self.members(space, sender) if m != sender]
            if not others:
                raise Unreachable(f"nobody else is in space {space} on network '{self.name}'")
            to = self._random.choice(sorted(others))
        inbox = self._spaces.get(space, {}).get(to)
        if inbox is None or not self._reachable(sender, to):
            raise Unreachable(f"agent {to} is not reachable in space {space} on network '{self.name}'")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        lost = self._loss and self._random.random() < self._loss
        if to in self._dropped or (lost and self._random.random() < 0.5):
            await asyncio.sleep(timeout)  # the request is lost
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s")
        if self._delay:
            await asyncio.sleep(self._delay)
        task = self._deliver(inbox, sender, data)
        if self._duplicate and self._random.random() < self._duplicate:
            self._deliver(inbox, sender, data)
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s") from None
        if lost:  # the recipient acted on it; its reply is lost
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s")
        if not isinstance(reply, bytes):
            raise TypeError("an inbox must reply with bytes")
        return reply

    def notify(self, space: str, sender: str, to: str, data: bytes) -> None:
        inbox = self._spaces.get(space, {}).get(to)
        if inbox is not None and sender not in self._killed and self._reachable(sender, to):
            self._deliver(inbox, sender, data)

    def _deliver(self, inbox: Inbox, sender: str, data: bytes) -> asyncio.Task[bytes]:
        task = asyncio.ensure_future(inbox.on_message(sender, data))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[bytes]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("memory network '%s': an inbox failed: %r", self.name, task.exception())

    def __repr__(self) -> str:
        return f"MemorySwitchboard({self.name!r}, spaces={len(self._spaces)})"
