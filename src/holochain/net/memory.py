"""An in-process switchboard: agents in one Python process share a DHT.

Used for ``hc run``, for conductors with ``[network] type = "memory"`` and
for tests.  Messages are ``bytes`` handed to the recipient's inbox on the
event loop, each request in its own task, so a slow recipient never blocks
the sender beyond its timeout.

Faults can be injected for tests, deterministically: ``delay(seconds)``
slows every delivery, ``drop(agent)`` makes an agent's inbox swallow
requests (the sender times out), ``partition(groups)`` splits the space so
only agents in the same group reach each other (``heal()`` undoes it).
"""

from __future__ import annotations

import asyncio
import logging

from .switchboard import Inbox, RequestTimeout, Unreachable

__all__ = ["MemorySwitchboard"]

log = logging.getLogger(__name__)


class MemorySwitchboard:
    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._spaces: dict[str, dict[str, Inbox]] = {}
        self._delay = 0.0
        self._dropped: set[str] = set()
        self._groups: list[set[str]] | None = None
        self._tasks: set[asyncio.Task[bytes]] = set()

    # -- membership ---------------------------------------------------------------------

    async def join(self, space: str, agent: str, inbox: Inbox) -> None:
        members = self._spaces.setdefault(space, {})
        if agent in members and members[agent] is not inbox:
            raise ValueError(f"agent {agent} is already in space {space} on network '{self.name}'")
        others = list(members.items())
        members[agent] = inbox
        for other, other_inbox in others:
            inbox.on_membership("join", other)
            other_inbox.on_membership("join", agent)

    def leave(self, space: str, agent: str) -> None:
        members = self._spaces.get(space, {})
        if members.pop(agent, None) is None:
            return
        for other_inbox in list(members.values()):
            other_inbox.on_membership("leave", agent)
        if not members:
            self._spaces.pop(space, None)

    def members(self, space: str) -> list[str]:
        return list(self._spaces.get(space, {}))

    # -- faults (tests) ------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        self._delay = max(0.0, seconds)

    def drop(self, agent: str, dropped: bool = True) -> None:
        (self._dropped.add if dropped else self._dropped.discard)(agent)

    def partition(self, groups: list[set[str]]) -> None:
        self._groups = [set(g) for g in groups]

    def heal(self) -> None:
        self._groups = None
        self._dropped.clear()
        self._delay = 0.0

    def _reachable(self, sender: str, to: str) -> bool:
        if self._groups is None:
            return True
        return any(sender in g and to in g for g in self._groups)

    # -- delivery ---------------------------------------------------------------------------

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes:
        if not isinstance(data, bytes):
            raise TypeError("only bytes cross a switchboard")
        inbox = self._spaces.get(space, {}).get(to)
        if inbox is None or not self._reachable(sender, to):
            raise Unreachable(f"agent {to} is not reachable in space {space} on network '{self.name}'")
        if to in self._dropped:
            await asyncio.sleep(timeout)
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s")
        if self._delay:
            await asyncio.sleep(self._delay)
        task = asyncio.ensure_future(inbox.on_message(sender, data))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s") from None
        if not isinstance(reply, bytes):
            raise TypeError("an inbox must reply with bytes")
        return reply

    def _finished(self, task: "asyncio.Task[bytes]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("memory network '%s': an inbox failed: %r", self.name, task.exception())

    def __repr__(self) -> str:
        return f"MemorySwitchboard({self.name!r}, spaces={len(self._spaces)})"
