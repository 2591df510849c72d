"""The switchboard: the small transport interface under the DHT logic.

A switchboard knows who is in each *space* (a DNA address) and moves opaque
bytes between agents in it.  That is all: holding rules, publishing, gossip,
queries and validation live above it (:mod:`holochain.net.dht`) and are
written once.  Two implementations pass one conformance suite
(``tests/test_net_conformance.py``): the in-process
:class:`~holochain.net.memory_switchboard.MemorySwitchboard` and the NATS relay
:class:`~holochain.net.nats.NatsSwitchboard`.

Nothing but ``bytes`` crosses a switchboard, and every failure is explicit:
:class:`Unreachable` when the agent is not (or no longer) in the space,
:class:`RequestTimeout` when no reply came in time.

A switchboard reports only the agents it reaches *directly*
(``on_membership`` join/leave events, ``members(space, viewer)``): on a
relay, the agents of the same conductor; in process, every agent of the
network, which is why the memory switchboard is ``announces_all``.  Who
else is in a space the DHT learns itself, from signed agent records spread
by gossip (:mod:`holochain.net.peers`): no switchboard broadcasts presence.
A request to :data:`~holochain.net.membership.ANYONE` goes to any one other
member (a newcomer's bootstrap); a request whose recipient nobody serves
raises :class:`Unreachable` at once (that is how the DHT notices an agent
gone), and :class:`Offline` when this conductor has no relay connection
(nobody's fault but ours: no agent is marked gone for it).
"""

from __future__ import annotations

from typing import Protocol

from ..core.errors import NetworkError

__all__ = ["Switchboard", "Inbox", "NetworkError", "Unreachable", "RequestTimeout", "Offline"]


class Unreachable(NetworkError):
    """The agent is not (or no longer) a member of the space."""


class RequestTimeout(NetworkError):
    """No reply arrived within the time allowed."""


class Offline(RequestTimeout):
    """No reply, because this conductor is not connected to its relay (it is reconnecting)."""


class Inbox(Protocol):
    """What a joined agent offers the switchboard."""

    async def on_message(self, sender: str, data: bytes) -> bytes:
        """Handle a request from ``sender``; the returned bytes are the reply."""
        ...

    def on_membership(self, event: str, agent: str) -> None:
        """``event`` is ``"join"`` or ``"leave"`` of another agent the switchboard reaches directly."""
        ...

    def on_reconnected(self) -> None:
        """The relay connection came back after being lost."""
        ...


class Switchboard(Protocol):
    """What the DHT node needs of a transport: join and leave a space, see its members, and send a
    request to one of them."""

    name: str
    max_message_bytes: int
    announces_all: bool  # its membership events cover every member (no agent records needed)

    async def join(self, space: str, agent: str, inbox: Inbox) -> None: ...

    def leave(self, space: str, agent: str) -> None: ...

    def members(self, space: str, viewer: str | None = None) -> list[str]: ...

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes: ...

    def notify(self, space: str, sender: str, to: str, data: bytes) -> None:
        """Send without waiting for (or wanting) a reply; best effort."""
        ...

    async def close(self) -> None: ...
