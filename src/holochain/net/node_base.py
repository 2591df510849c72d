"""What the parts of a DHT node share: its state, declared once for the type checker.

:class:`~.dht.DhtNode` is assembled from parts kept in modules of their own
(membership, gossip rounds, queries, the inbound side); each part reads the
node's state and calls the others.  This base declares that state and those
calls (for type checking only: nothing here runs), so each part is checked
as if it were the whole node.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
from typing import TYPE_CHECKING, Any

from ..core.crypto import AgentKey
from .gossip import GossipIndex
from .peers import AgentInfo, PeerView

if TYPE_CHECKING:
    from .dht import Network, NodeHandler
    from .outbox import Item, Outbox

__all__ = ["NodeBase"]


class NodeBase:
    """The state every part of a node uses (see the module docstring)."""

    network: Network
    space: str
    key: AgentKey
    agent: str
    handler: NodeHandler
    closed: bool
    view: PeerView
    index: GossipIndex
    gossip_rounds: int
    gossip_fetched: int
    gossip_pushed: int
    recent_rounds: collections.deque[dict[str, Any]]
    recent_errors: collections.deque[tuple[float, str]]
    served: collections.Counter[str]
    asked: collections.Counter[str]
    _work: dict[str, int]
    _tasks: set[asyncio.Task[Any]]
    _outboxes: dict[str, Outbox]
    _receipts: dict[tuple[str, str], list[Item]]
    _early: collections.OrderedDict[tuple[str, str], str]
    _authored_from: int
    _refused: collections.OrderedDict[str, None]
    _refused_by: collections.OrderedDict[tuple[str, str], None]
    _gossip_lock: asyncio.Lock
    _random: random.Random
    _info: AgentInfo | None
    _last_resign: float
    _resync_due: bool
    _synced_members: frozenset[str]
    _suspects: set[str]

    if TYPE_CHECKING:  # what one part calls in another

        def spawn(self, what: str, coro: Any) -> asyncio.Task[Any]: ...

        def working(self, what: str) -> contextlib.AbstractContextManager[None]: ...

        def outbox_sizes(self) -> dict[str, int]: ...

        def note_error(self, what: str) -> None: ...

        def sign(self, text: str) -> str: ...

        async def request(self, to: str, kind: str, body: Any, timeout: float) -> Any: ...

        async def request_from(self, to: str, kind: str, body: Any, timeout: float) -> tuple[str, Any]: ...

        def notify(self, to: str, kind: str, body: Any) -> None: ...

        def _outbox(self, holder: str) -> Outbox: ...

        def _note_results(self, results: list[list[str]], holder: str | None) -> None: ...

        def holders(self, basis: str) -> list[str]: ...

        def my_info(self) -> AgentInfo: ...

        def heard(self, agent: str) -> None: ...

        def unreachable(self, agent: str) -> None: ...

        def tick(self) -> None: ...

        def merge_infos(self, values: Any) -> int: ...

        async def meet_anyone(self) -> int: ...

        async def exchange_infos(self, peer: str, reply: Any, timeout: float) -> int: ...

        def answer_digest_infos(self, frm: str, body: dict[str, Any]) -> dict[str, Any]: ...

        def answer_wanted_infos(self, want: list[int]) -> dict[str, Any]: ...

        def answer_bootstrap(self, frm: str, body: Any) -> Any: ...

        async def reconcile(self, peer: str) -> dict[str, int]: ...

        def _gossip_timeout(self) -> float: ...

        def _refresh_authored(self) -> None: ...
