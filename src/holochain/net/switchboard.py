"""The switchboard: the small transport interface under the DHT logic.

A switchboard knows who is in each *space* (a DNA address) and moves opaque
bytes between agents in it.  That is all: holding rules, publishing, queries
and validation live above it (:mod:`holochain.net.dht`) and are written
once.  The in-process :class:`~holochain.net.memory.MemorySwitchboard` is one
implementation; a NATS relay (and later a peer-to-peer engine) implement the
same few methods.

Nothing but ``bytes`` crosses a switchboard, and every failure is explicit:
:class:`Unreachable` when the agent is not in the space, :class:`RequestTimeout`
when no reply came in time.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Switchboard", "Inbox", "NetworkError", "Unreachable", "RequestTimeout"]


class NetworkError(Exception):
    """A network operation failed; the text says which and why."""


class Unreachable(NetworkError):
    """The agent is not (or no longer) a member of the space."""


class RequestTimeout(NetworkError):
    """No reply arrived within the time allowed."""


class Inbox(Protocol):
    """What a joined agent offers the switchboard."""

    async def on_message(self, sender: str, data: bytes) -> bytes:
        """Handle a request from ``sender``; the returned bytes are the reply."""
        ...

    def on_membership(self, event: str, agent: str) -> None:
        """``event`` is ``"join"`` or ``"leave"`` of another agent in the space."""
        ...


class Switchboard(Protocol):
    async def join(self, space: str, agent: str, inbox: Inbox) -> None: ...

    def leave(self, space: str, agent: str) -> None: ...

    def members(self, space: str) -> list[str]: ...

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes: ...
