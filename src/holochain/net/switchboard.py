"""The switchboard: the small transport interface under the DHT logic.

A switchboard knows who is in each *space* (a DNA address) and moves opaque
bytes between agents in it.  That is all: holding rules, publishing, gossip,
queries and validation live above it (:mod:`holochain.net.dht`) and are
written once.  Two implementations pass one conformance suite
(``tests/test_net_conformance.py``): the in-process
:class:`~holochain.net.memory.MemorySwitchboard` and the NATS relay
:class:`~holochain.net.nats.NatsSwitchboard`.

Nothing but ``bytes`` crosses a switchboard, and every failure is explicit:
:class:`Unreachable` when the agent is not (or no longer) in the space,
:class:`RequestTimeout` when no reply came in time.

Membership is a *view*: each member learns of others joining and leaving
(``on_membership``) and ``members(space, viewer)`` is the space as
``viewer`` sees it.  Views may differ for a while (a relay's presence
expires after a few heartbeats; a partition hides each side from the
other); the DHT above recomputes who holds what on every change and gossip
repairs what the differences cost.
"""

from __future__ import annotations

from typing import Protocol

from ..core.errors import NetworkError

__all__ = ["Switchboard", "Inbox", "NetworkError", "Unreachable", "RequestTimeout"]


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

    def sign(self, text: str) -> str:
        """The agent's signature over ``text`` (a relay's presence announcements carry it)."""
        ...


class Switchboard(Protocol):
    """What the DHT node needs of a transport: join and leave a space, see its members, and send a
    request to one of them."""

    name: str
    max_message_bytes: int

    async def join(self, space: str, agent: str, inbox: Inbox) -> None: ...

    def leave(self, space: str, agent: str) -> None: ...

    def members(self, space: str, viewer: str | None = None) -> list[str]: ...

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes: ...

    async def close(self) -> None: ...
