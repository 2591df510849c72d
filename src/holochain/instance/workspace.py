"""The workspace: what every workflow step of an instance works over.

Holochain's workflows each take their inputs explicitly (a workspace of the
stores they read and write, the network, the triggers of the steps after
them).  Ours do the same: each step module (:mod:`.call_zome`,
:mod:`.genesis`, :mod:`.initialize_zomes`, :mod:`.authoring`,
:mod:`.publish_dht_ops`, :mod:`.incoming_dht_ops`, …) is given a
:class:`Workspace` and the steps it calls, never the :class:`~.instance.Instance`.

The workspace holds the agent's source chain, its DHT shard, the store under
both, the ribosome, the network node (once joined), the signal sink, the
clock, and two things every step shares:

* **storage tickets** — a write returns a ticket; a zome call's reply waits
  until the highest ticket it wrote is durable (:meth:`Workspace.wrote`);
* **triggers** — a commit wakes the publish workflow through
  :attr:`Workspace.publish_trigger`, without knowing it (holochain's
  ``TriggerSender``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..core import json as cjson
from ..core.crypto import AgentKey
from ..core.dna import Dna
from ..core.keys import AgentKeystore
from ..core.time import Clock, system_clock
from ..net import Network
from ..net.dht import DhtNode
from ..ribosome.host_api import CallHost, CallInfo, HostCore
from ..ribosome.ribosome import Ribosome
from ..storage.base import Store, WriteBatch
from .chain import SourceChain
from .shard import Shard
from .validation_log import ValidationLog

__all__ = ["Workspace", "PUBLIC_GRANT_ID", "SignalSink"]

log = logging.getLogger(__name__)

PUBLIC_GRANT_ID = "hc_public"

SignalSink = Callable[[dict[str, Any]], None]


def _nothing() -> None:
    pass


class Workspace:
    """One instance's state and services, handed to each workflow step.

    ``signal_sink`` receives each signal as holochain-rust's Signal JSON (set
    by the conductor); ``consistency_signals`` turns on tryorama's
    consistency events; ``publish_trigger`` and ``host_core`` are set once,
    when the instance wires its steps together.
    """

    def __init__(
        self,
        instance_id: str,
        dna: Dna,
        agent: AgentKey,
        agent_nick: str,
        store: Store,
        keys: AgentKeystore,
        network: Network,
        ribosome: Ribosome,
        chain: SourceChain,
        shard: Shard,
        clock: Clock = system_clock,
    ) -> None:
        self.instance_id = instance_id
        self.dna = dna
        self.dna_address = dna.address
        self.agent = agent
        self.agent_nick = agent_nick
        self.agent_id_str = cjson.dumps({"nick": agent_nick, "pub_sign_key": agent.address})
        self.store = store
        self.keys = keys
        self.network = network
        self.ribosome = ribosome
        self.chain = chain
        self.shard = shard
        self.clock = clock  # "now", for headers and held facts (deterministic under test)
        self.node: DhtNode | None = None
        self.last_ticket = 0
        self.public_token: str | None = None
        # (zome, function) pairs the public grant allows: the fast capability path
        self.public_functions: frozenset[tuple[str, str]] = frozenset()
        self.signal_sink: SignalSink | None = None
        self.consistency_signals = False
        self.publish_trigger: Callable[[], None] = _nothing
        self.host_core: HostCore | None = None
        self.validation_log = ValidationLog()  # refusals, with their reasons (the dashboard shows them)

    # -- the zome host ---------------------------------------------------------------------

    def zome_host(self, zome: str, call: CallInfo | None = None) -> CallHost:
        """The host a zome call or callback of ``zome`` runs with."""
        assert self.host_core is not None, "the instance wires its host before running zome code"
        return CallHost(self.host_core, zome, call)

    # -- capabilities ------------------------------------------------------------------------

    def grants_changed(self) -> None:
        # the newest public grant wins (reloaded zome code commits a new one when the public functions change)
        for token, grant in reversed(self.chain.grants.items()):
            if grant["id"] == PUBLIC_GRANT_ID and grant["assignees"] is None:
                self.public_token = token
                self.public_functions = frozenset((zome, fn) for zome, fns in grant["functions"].items() for fn in fns)
                return

    # -- storage tickets --------------------------------------------------------------

    def write(self, batch: WriteBatch) -> int:
        ticket = self.store.write(batch)
        self.last_ticket = max(self.last_ticket, ticket)
        return ticket

    def wrote(self, ticket: int, call: CallInfo | None) -> None:
        """A commit wrote ``ticket``: the call's reply waits for it; publishing follows."""
        self.last_ticket = max(self.last_ticket, ticket)
        if call is not None:
            call.wrote = max(call.wrote, ticket)
        self.publish_trigger()

    async def wait_durable(self, ticket: int) -> None:
        fut = self.store.wait_durable(ticket)
        if fut is not None:
            await fut

    # -- signals -------------------------------------------------------------------------

    def emit_signal(self, name: str, arguments: str) -> None:
        sink = self.signal_sink
        signal = {"signal_type": "User", "name": name, "arguments": arguments}
        if sink is None:
            log.debug("instance '%s': signal %s (no conductor listening)", self.instance_id, name)
            return
        try:
            sink(signal)
        except Exception:  # a broken listener must not break the zome call
            log.exception("instance '%s': the signal sink failed", self.instance_id)

    def emit_consistency(self, signal: dict[str, Any]) -> None:
        sink = self.signal_sink
        if sink is None:
            return
        try:
            sink(signal)
        except Exception:  # a broken listener must not break holding or the zome call
            log.exception("instance '%s': the signal sink failed", self.instance_id)
