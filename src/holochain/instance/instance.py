"""An instance: one DNA run by one agent — its lifecycle, and the wiring of its workflow steps.

The steps, each in its own module over an explicit :class:`~.workspace.Workspace`
(named as in holochain's later rewrite, in the order a zome call meets them):

* :mod:`.genesis` — the first records of a new chain (Dna, AgentId, public grant);
* :mod:`.initialize_zomes` — every zome's ``init``, once;
* :mod:`.call_zome` — check the zome, the function and the capability, run
  the function, reply once what it wrote is durable;
* :mod:`.authoring` — *commit*: validate at the author, append, hold locally;
* :mod:`.publish_dht_ops` — *produce_dht_ops* / *publish_dht_ops*, after the reply;
* :mod:`.incoming_dht_ops` — a holder's ops through :mod:`.sys_validation`,
  :mod:`.app_validation` and :mod:`.integrate_dht_ops`, with a
  :mod:`.validation_receipt` for what was pending;
* :mod:`.cascade` — *get*: local shard first, then the DHT.

Around them: :mod:`.zome_host` is the ribosome's
:class:`~holochain.ribosome.host_api.HostCore` (what zome code may ask) and
:mod:`.peer_requests` the node's :class:`~holochain.net.dht.NodeHandler`
(what peers may ask).

The conductor sets two hooks: ``signal_sink(signal)`` receives each signal
as holochain-rust's Signal JSON; ``bridge_call(handle, zome, function,
args)`` calls through a bridge (returning the callee's
:data:`~holochain.ribosome.host_api.ZomeCallReply`, raising :class:`InstanceError`).
"""

from __future__ import annotations

import logging
from typing import Any

from ..core.crypto import AgentKey
from ..core.dna import Dna
from ..core.keys import AgentKeystore
from ..core.time import Clock, system_clock
from ..net import Network, NetworkError
from ..net.dht import DhtNode
from ..ribosome.host_api import ZomeCallReply
from ..ribosome.ribosome import Ribosome
from ..storage.base import StorageError, Store
from .app_validation import AppValidation
from .authoring import Authoring
from .call_zome import CallZome, InstanceError
from .cascade import Cascade
from .chain import SourceChain
from .genesis import genesis
from .incoming_dht_ops import Incoming
from .initialize_zomes import initialize_zomes, zomes_initialized
from .peer_requests import PeerRequests
from .publish_dht_ops import Publisher
from .shard import CRUD_LINK, CRUD_STATUS, Shard
from .validation_log import ValidationLog
from .validation_package import AuthorPackages
from .workspace import SignalSink, Workspace
from .zome_host import THIS_INSTANCE, BridgeCall, InstanceHost

__all__ = ["Instance", "InstanceError", "CRUD_STATUS", "CRUD_LINK", "THIS_INSTANCE"]

log = logging.getLogger(__name__)


class Instance:
    """One DNA run by one agent: builds the workspace and the workflow steps over it, and
    carries the instance through its lifecycle (initialize, start, stop, close).

    Zome calls come in through :meth:`call`; what zome code asks goes to
    :attr:`host`, what peers ask to :attr:`peers`.
    """

    def __init__(
        self,
        instance_id: str,
        dna: Dna,
        agent: AgentKey,
        agent_nick: str,
        store: Store,
        *,
        network: Network | None = None,
        keystore: AgentKeystore | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.instance_id = instance_id
        self.dna = dna
        self.dna_address = dna.address
        self.agent = agent
        self.store = store
        self.chain = SourceChain(store, agent, f"instance '{instance_id}'", clock)
        self.shard = Shard(store, dna)
        self.network = network if network is not None else Network.private()
        self.ws = ws = Workspace(
            instance_id,
            dna,
            agent,
            agent_nick,
            store,
            keystore if keystore is not None else AgentKeystore.for_agent(agent),
            self.network,
            Ribosome(dna),
            self.chain,
            self.shard,
            clock,
        )
        cascade = Cascade(ws)
        self.validation = validation = AppValidation(ws, cascade)
        self.authoring = Authoring(ws, validation, cascade)
        self.calls = CallZome(ws)
        self.host = InstanceHost(ws, self.authoring, cascade, self.calls)
        self.incoming = Incoming(ws, validation, AuthorPackages(ws, cascade))
        self.publisher = Publisher(ws, self.incoming)
        self.peers = PeerRequests(ws, self.incoming, self.publisher, validation)
        ws.host_core = self.host
        ws.publish_trigger = self.publisher.poke
        self.active = False
        self.initialized = False

    # -- what the conductor sets -------------------------------------------------------

    @property
    def node(self) -> DhtNode | None:
        return self.ws.node

    @property
    def public_token(self) -> str | None:
        return self.ws.public_token

    @property
    def signal_sink(self) -> SignalSink | None:
        return self.ws.signal_sink

    @signal_sink.setter
    def signal_sink(self, sink: SignalSink | None) -> None:
        self.ws.signal_sink = sink

    @property
    def consistency_signals(self) -> bool:
        """Whether tryorama's consistency signals are emitted (the conductor's ``signals.consistency``)."""
        return self.ws.consistency_signals

    @consistency_signals.setter
    def consistency_signals(self, on: bool) -> None:
        self.ws.consistency_signals = on

    @property
    def validation_log(self) -> ValidationLog:
        """The entries validation refused lately (here or as a holder), with their reasons."""
        return self.ws.validation_log

    def declares(self, zome: str, function: str) -> bool:
        """Whether the DNA declares ``function`` in ``zome``."""
        return self.calls.declares(zome, function)

    @property
    def bridge_call(self) -> BridgeCall | None:
        return self.host.bridge_call

    @bridge_call.setter
    def bridge_call(self, call: BridgeCall | None) -> None:
        self.host.bridge_call = call

    # -- lifecycle -----------------------------------------------------------------

    async def initialize(self) -> None:
        """Genesis for a new chain (else load and verify it), join the network, run ``init``."""
        if self.store.chain_length() == 0:
            log.info("instance '%s': no chain found in the store, initializing a new chain", self.instance_id)
            await genesis(self.ws, self.authoring)
        else:
            count = self.chain.load()
            log.info("instance '%s': loaded and verified a chain of %d records", self.instance_id, count)
            self.ws.grants_changed()
        await self._join_network()
        if not zomes_initialized(self.ws):
            try:
                await initialize_zomes(self.ws)
            except BaseException:
                self._leave_network()
                raise
        self.initialized = True

    def start(self) -> None:
        if self.active:
            raise InstanceError("Holochain instance is already active.")
        self.active = True

    def stop(self) -> None:
        if not self.active:
            raise InstanceError("Holochain instance is not active yet.")
        self.active = False

    def close(self) -> None:
        """Leave the network, stop background work, close the store."""
        self.active = False
        self._leave_network()
        try:
            self.chain.write_mark()  # the next start re-hashes what this session added instead of verifying it
        except StorageError as exc:
            log.error("instance '%s': %s", self.instance_id, exc)
        self.store.close()

    async def _join_network(self) -> None:
        try:
            self.ws.node = await self.network.join(self.dna_address, self.agent, self.peers)
        except (ValueError, NetworkError) as exc:
            raise InstanceError(f"cannot join network '{self.network.name}': {exc}") from exc
        self.publisher.poke()

    def _leave_network(self) -> None:
        node = self.ws.node
        if node is not None:
            self.incoming.close()
            node.close()
            self.publisher.save_cursor()

    # -- zome calls --------------------------------------------------------------------

    def call(
        self,
        zome: str,
        function: str,
        args: Any,
        *,
        token: str | None = None,
        provenance: list[str] | None = None,
    ) -> ZomeCallReply:
        """Run a zome function; returns the JSON text of its result, or a future or an
        awaitable of it when the call has to wait (for the network, or for what it
        wrote to become durable).  Raises :class:`InstanceError`.
        """
        if not self.active:
            raise InstanceError("Holochain instance is not active yet.")
        return self.calls.call(zome, function, args, token=token, provenance=provenance)
