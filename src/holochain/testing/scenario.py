"""Scenarios: several players (conductors) in one process, sharing a DHT.

In the spirit of tryorama: a :class:`Scenario` owns an in-process memory
network (or names a NATS relay: ``Scenario(dir, network={"type": "nats",
"servers": [url]})``, each player then its own connection to it); each
:class:`Player` is a real :class:`~holochain.conductor.Conductor` built from
a configuration (instances named like tryorama's, agents called
``<player>::<instance>`` with holochain-rust's deterministic test keys), all
joined to that network.  Players call zome functions, are killed and
spawned; ``await scenario.consistency()`` waits until every node sees every
running player (presence over a relay takes a round trip), has published all
it committed and every holder holds (or has refused) it — the real state of
the DHT, never a sleep.

::

    async def test_posts_are_shared(scenario):
        alice, bob = (await scenario.players({"alice": config, "bob": config})).values()
        address = (await alice.call("app", "blog", "create_post", {"content": "hi"}))["Ok"]
        await scenario.consistency()
        assert (await bob.call("app", "blog", "get_post", {"post_address": address}))["Ok"]

with ``config = PlayerConfig({"app": DnaSpec(path_to_dna_json)})``.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import uuid as _uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..conductor.conductor import Conductor, load_dna_file
from ..conductor.config_file import parse_config
from ..core import json as cjson
from ..core.errors import HolochainPyError
from ..instance.instance import Instance, InstanceError
from ..net import Network, settle, shared_memory_network

__all__ = ["Scenario", "Player", "PlayerConfig", "DnaSpec", "InstanceInfo", "CallFailed"]

_scenario_ids = itertools.count(1)


class CallFailed(HolochainPyError):
    """The conductor refused a zome call (what a client sees as a JSON-RPC error)."""


@dataclass(frozen=True)
class DnaSpec:
    """A packaged DNA file, optionally instantiated with another ``uuid`` (a different DNA hash)."""

    path: Path
    uuid: str | None = None


@dataclass
class PlayerConfig:
    """What a player runs: instances (id → DNA) and bridges ``(caller, callee, handle)``.

    ``websocket=True`` also serves an admin WebSocket interface with every
    instance on a free loopback port (``Player.url``); ``storage="sqlite"``
    keeps chains on disk under the scenario directory, so a killed player
    spawns again with its chain (``"encrypted"``: the same, SQLCipher-encrypted).  ``network`` overrides keys of the
    scenario's ``[network]`` table for this player (e.g. the relay ``servers``
    it connects to).  ``consistency_signals`` turns on holochain-rust's
    consistency signals (what tryorama waits on), collected in ``Player.signals``.
    """

    instances: dict[str, DnaSpec | Path | str]
    bridges: list[tuple[str, str, str]] = field(default_factory=list)
    websocket: bool = False
    storage: str = "memory"
    network: dict[str, Any] | None = None
    consistency_signals: bool = False

    def dna(self, instance_id: str) -> DnaSpec:
        spec = self.instances[instance_id]
        return spec if isinstance(spec, DnaSpec) else DnaSpec(Path(spec))


@dataclass(frozen=True)
class InstanceInfo:
    """An instance of a player as ``info/instances`` lists it."""

    id: str
    agent_address: str
    dna_address: str


class Player:
    """One conductor in a scenario."""

    def __init__(self, scenario: Scenario, name: str, config: PlayerConfig) -> None:
        self.scenario = scenario
        self.name = name
        self.config = config
        self.conductor: Conductor | None = None
        self.service: Any = None
        self.signals: list[tuple[str, dict[str, Any]]] = []
        self._infos: dict[str, InstanceInfo] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def _conductor_config(self) -> dict[str, Any]:
        agents, dnas, instances = [], [], []
        for iid in self.config.instances:
            spec = self.config.dna(iid)
            dna_entry: dict[str, Any] = {
                "id": f"{iid}-dna",
                "file": str(spec.path),
                "hash": self.scenario.dna_hash(spec.path),
            }
            if spec.uuid is not None:
                dna_entry["uuid"] = spec.uuid
            dnas.append(dna_entry)
            agents.append(
                {
                    "id": iid,
                    "name": f"{self.name}::{iid}",
                    "public_address": "",
                    "keystore_file": "",
                    "test_agent": True,
                }
            )
            storage: dict[str, Any] = {"type": "memory"}
            if self.config.storage in ("sqlite", "encrypted"):
                storage = {"type": "file", "path": str(self.scenario.directory / self.name / iid)}
                if self.config.storage == "encrypted":
                    storage["encrypted"] = True
            elif self.config.storage != "memory":
                raise ValueError("storage is 'memory', 'sqlite' or 'encrypted'")
            instances.append({"id": iid, "dna": f"{iid}-dna", "agent": iid, "storage": storage})
        interfaces = []
        if self.config.websocket:
            interfaces.append(
                {
                    "id": "websocket-interface",
                    "driver": {"type": "websocket", "port": 0},
                    "admin": True,
                    "choose_free_port": True,
                    "bind_address": "127.0.0.1",
                    "instances": [{"id": iid} for iid in self.config.instances],
                }
            )
        return {
            "agents": agents,
            "dnas": dnas,
            "instances": instances,
            "interfaces": interfaces,
            "bridges": [{"caller_id": c, "callee_id": e, "handle": h} for c, e, h in self.config.bridges],
            "network": {**self.scenario.network_table(), **(self.config.network or {})},
            "signals": {"consistency": self.config.consistency_signals, "trace": False},
        }

    async def spawn(self) -> None:
        """Start the conductor: its instances join the scenario's network."""
        if self.conductor is not None:
            raise RuntimeError(f"player {self.name} is already running")
        conductor = Conductor(
            parse_config(self._conductor_config()),
            base_dir=self.scenario.directory,
            save_config=False,
            synchronous="normal",
        )
        # the conductor wires signals and bridges; the player keeps a copy of every signal
        conductor.add_signal_listener(
            lambda iid, kind, frame: self.signals.append((iid, orjson.loads(frame)["signal"]))
        )
        if self.config.websocket:
            from ..interfaces.service import ConductorService

            self.service = ConductorService(conductor, announce=lambda line: None)
            await self.service.start()
        else:
            await conductor.boot()
        self.conductor = conductor
        self._infos = {
            iid: InstanceInfo(iid, inst.agent.address, inst.dna_address) for iid, inst in conductor.instances.items()
        }

    async def kill(self) -> None:
        """Stop the conductor: its instances leave the network (their data stays with holders)."""
        if self.service is not None:
            await self.service.stop()
            self.service = None
        elif self.conductor is not None:
            await self.conductor.shutdown()
        self.conductor = None

    # -- use ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.conductor is not None

    def instance(self, instance_id: str) -> Instance:
        if self.conductor is None:
            raise RuntimeError(f"player {self.name} is not running")
        return self.conductor.instances[instance_id]

    def info(self, instance_id: str) -> InstanceInfo:
        """The instance's agent and DNA addresses (known after the first spawn)."""
        return self._infos[instance_id]

    @property
    def url(self) -> str:
        if self.service is None:
            raise RuntimeError(f"player {self.name} has no WebSocket interface")
        return f"ws://127.0.0.1:{self.service.port_of('websocket-interface')}"

    async def call(self, instance_id: str, zome: str, function: str, args: Any = None) -> Any:
        """Call a zome function as the conductor's ``call`` does; returns the decoded result."""
        try:
            result = self.instance(instance_id).call(zome, function, {} if args is None else args)
            if inspect.isawaitable(result):
                result = await result
        except InstanceError as exc:
            raise CallFailed(f"Holochain Instance Error: {exc}") from None
        return cjson.loads(result)

    async def call_sync(self, instance_id: str, zome: str, function: str, args: Any = None) -> Any:
        """``call``, then wait for consistency (tryorama's ``callSync``)."""
        result = await self.call(instance_id, zome, function, args)
        await self.scenario.consistency()
        return result

    def __repr__(self) -> str:
        return f"Player({self.name!r}, {'running' if self.running else 'stopped'})"


class Scenario:
    """Players sharing one in-process network (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        *,
        redundancy: int = 0,
        request_timeout: float = 30.0,
        consistency_timeout: float = 30.0,
        gossip_interval: float = 1.0,
        network: dict[str, Any] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.redundancy = redundancy
        self.request_timeout = request_timeout
        self.consistency_timeout = consistency_timeout
        self.gossip_interval = gossip_interval
        self.network_name = f"scenario-{next(_scenario_ids)}-{_uuid.uuid4().hex[:8]}"
        self.relay = dict(network) if network is not None else None
        # the shared in-process network (None when the players meet through a relay)
        self.network: Network | None = None
        if self.relay is None:
            self.network = shared_memory_network(
                self.network_name,
                redundancy=redundancy,
                request_timeout=request_timeout,
                gossip_interval=gossip_interval,
            )
        self.players_by_name: dict[str, Player] = {}
        self._hashes: dict[Path, str] = {}

    def network_table(self) -> dict[str, Any]:
        """The ``[network]`` table every player's conductor gets."""
        table: dict[str, Any] = {
            "redundancy": self.redundancy,
            "request_timeout_ms": int(self.request_timeout * 1000),
            "gossip_interval_ms": int(self.gossip_interval * 1000),
        }
        if self.relay is None:
            return {"type": "memory", "name": self.network_name, **table}
        return {**table, **self.relay}

    def networks(self) -> list[Network]:
        """The networks the running players are on (one per player over a relay)."""
        if self.network is not None:
            return [self.network]
        return [
            network
            for player in self.players_by_name.values()
            if player.conductor is not None
            for network in {id(i.network): i.network for i in player.conductor.instances.values()}.values()
        ]

    def dna_hash(self, path: Path) -> str:
        path = Path(path)
        if path not in self._hashes:
            self._hashes[path] = load_dna_file(path).address
        return self._hashes[path]

    async def player(self, name: str, config: PlayerConfig, *, spawn: bool = True) -> Player:
        if name in self.players_by_name:
            raise ValueError(f"there is already a player named {name!r}")
        player = Player(self, name, config)
        self.players_by_name[name] = player
        if spawn:
            await player.spawn()
            await self.consistency()
        return player

    async def players(self, configs: dict[str, PlayerConfig], *, spawn: bool = True) -> dict[str, Player]:
        """Create players (spawned one by one, each followed by consistency, as tryorama does)."""
        return {name: await self.player(name, config, spawn=spawn) for name, config in configs.items()}

    async def consistency(self, timeout: float | None = None) -> None:
        """Wait until everything published is held (or refused) by every running player."""
        timeout = self.consistency_timeout if timeout is None else timeout
        if self.network is not None:
            await settle(self.networks(), timeout)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._views_agree(deadline)
        await settle(self.networks(), max(0.0, deadline - loop.time()))

    async def _views_agree(self, deadline: float) -> None:
        """Over a relay, presence is asynchronous: wait until every node sees every running player."""
        loop = asyncio.get_running_loop()
        while True:
            spaces: dict[str, set[str]] = {}
            nodes = []
            for player in self.players_by_name.values():
                if player.conductor is None:
                    continue
                for instance in player.conductor.instances.values():
                    if instance.node is not None:
                        spaces.setdefault(instance.dna_address, set()).add(instance.agent.address)
                        nodes.append(instance.node)
            lagging = [n for n in nodes if set(n.members()) != spaces[n.space]]
            if not lagging:
                return
            if loop.time() > deadline:
                raise TimeoutError(
                    "players do not all see each other: "
                    + "; ".join(f"{n.agent[:12]}… sees {len(n.members())} of {len(spaces[n.space])}" for n in lagging)
                )
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for player in self.players_by_name.values():
            if player.running:
                await player.kill()

    async def __aenter__(self) -> Scenario:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
