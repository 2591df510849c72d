"""The conductor configuration: holochain-rust's TOML schema as a model, and its checks.

One dataclass per table (agents, DNAs, instances, interfaces, bridges, UI
bundles and interfaces, logger, signals, limits) and :class:`Configuration`
holding them.  :meth:`Configuration.check_consistency` runs holochain-rust's
cross-reference checks (duplicate ids, dangling references, shared storage
paths, cyclic bridges); checks that need DNA files happen when the conductor
loads them.  Reading and writing the TOML file is :mod:`.config_file`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.errors import HostingError
from .dashboard_config import DashboardConfig
from .ids import id_problem

__all__ = [
    "ConfigError",
    "Configuration",
    "AgentConfig",
    "DnaConfig",
    "InstanceConfig",
    "StorageConfig",
    "InterfaceConfig",
    "InstanceRef",
    "BridgeConfig",
    "UiBundleConfig",
    "UiInterfaceConfig",
    "LoggerConfig",
    "SignalsConfig",
    "LimitsConfig",
]


class ConfigError(HostingError, ValueError):
    """A configuration holochain-rust would refuse; the message names the key and why."""


# -- the model --------------------------------------------------------------------------


class _Table:
    """A table of the configuration, written back by :func:`to_toml` as ``TOML_KEYS`` lists
    its keys, in that order: keys whose value is None (or an empty table) are left out, nested
    tables and arrays of tables are written the same way."""

    TOML_KEYS: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.TOML_KEYS:
            value = getattr(self, key)
            if value is None or value == {}:
                continue
            if isinstance(value, _Table):
                value = value.to_dict()
            elif isinstance(value, list):
                value = [v.to_dict() if isinstance(v, _Table) else v for v in value]
            elif isinstance(value, dict):
                value = dict(value)
            out[key] = value
        return out


@dataclass
class AgentConfig(_Table):
    """An ``[[agents]]`` entry: an agent's id, name, public address and keystore file (or a test
    agent)."""

    id: str
    name: str
    public_address: str
    keystore_file: str
    holo_remote_key: bool | None = None
    test_agent: bool | None = None

    TOML_KEYS = ("id", "keystore_file", "name", "public_address", "holo_remote_key", "test_agent")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "public_address": self.public_address,
            "keystore_file": self.keystore_file,
            "holo_remote_key": self.holo_remote_key,
            "test_agent": self.test_agent,
        }


@dataclass
class DnaConfig(_Table):
    """A ``[[dnas]]`` entry: a DNA file, the hash it must have, and an optional uuid that re-hashes
    it."""

    id: str
    file: str
    hash: str
    uuid: str | None = None

    TOML_KEYS = ("file", "hash", "id", "uuid")


@dataclass
class StorageConfig(_Table):
    """An instance's ``storage`` table: ``memory``, or a persistent kind (sqlite; file, pickle and
    lmdb map to it) at a path."""

    type: str
    path: str | None = None
    initial_mmap_bytes: int | None = None
    encrypted: bool | None = None  # our extension: SQLCipher, keyed from the agent's keystore

    @property
    def persistent(self) -> bool:
        return self.type != "memory"

    TOML_KEYS = ("type", "path", "initial_mmap_bytes", "encrypted")


@dataclass
class InstanceConfig(_Table):
    """An ``[[instances]]`` entry: which DNA which agent runs, and where it is stored."""

    id: str
    dna: str
    agent: str
    storage: StorageConfig

    TOML_KEYS = ("agent", "dna", "id", "storage")

    def summary(self) -> dict[str, str]:
        return {"id": self.id, "dna": self.dna, "agent": self.agent}


@dataclass
class InstanceRef(_Table):
    """An instance an interface exposes, under its id or an alias."""

    id: str
    alias: str | None = None

    TOML_KEYS = ("id", "alias")


@dataclass
class InterfaceConfig(_Table):
    """An ``[[interfaces]]`` entry: a driver (websocket or http, a port), admin or not, the
    instances it exposes."""

    id: str
    driver: dict[str, Any]  # {"type": "websocket"|"http", "port": n} (or the unimplemented kinds)
    admin: bool = False
    instances: list[InstanceRef] = field(default_factory=list)
    choose_free_port: bool | None = None
    bind_address: str | None = None  # our extension: holochain-rust bound 0.0.0.0
    allowed_origins: list[str] | None = None  # our extension: browser Origins allowed on admin

    @property
    def kind(self) -> str:
        return self.driver["type"]

    @property
    def port(self) -> int | None:
        return self.driver.get("port")

    TOML_KEYS = ("admin", "allowed_origins", "bind_address", "choose_free_port", "id", "driver", "instances")

    def to_json(self) -> dict[str, Any]:
        """The shape ``admin/interface/list`` and ``/_dna_connections.json`` use."""
        return {
            "id": self.id,
            "driver": dict(self.driver),
            "admin": self.admin,
            "instances": [{"id": i.id, "alias": i.alias} for i in self.instances],
            "choose_free_port": self.choose_free_port,
        }


@dataclass
class BridgeConfig(_Table):
    """A ``[[bridges]]`` entry: the caller instance may call the callee through ``handle``."""

    caller_id: str
    callee_id: str
    handle: str

    TOML_KEYS = ("callee_id", "caller_id", "handle")


@dataclass
class UiBundleConfig(_Table):
    """A ``[[ui_bundles]]`` entry: a directory of static files to serve."""

    id: str
    root_dir: str
    hash: str | None = None

    TOML_KEYS = ("id", "root_dir", "hash")


@dataclass
class UiInterfaceConfig(_Table):
    """A ``[[ui_interfaces]]`` entry: a bundle served on a port, pointed at a DNA interface."""

    id: str
    bundle: str
    port: int
    dna_interface: str | None = None
    reroute_to_root: bool = True
    bind_address: str = "127.0.0.1"

    TOML_KEYS = ("bind_address", "bundle", "dna_interface", "id", "port", "reroute_to_root")


@dataclass
class LoggerConfig(_Table):
    """``[logger]``: kept and written back as holochain-rust has it (this conductor logs with
    ``--log-level``)."""

    type: str = "debug"
    rules: dict[str, Any] = field(default_factory=dict)
    state_dump: bool = False
    explicit: bool = False  # the file had the table: its level applies (see cli/logs.py)

    TOML_KEYS = ("state_dump", "type", "rules")


@dataclass
class SignalsConfig(_Table):
    """``[signals]``: holochain-rust's trace signals, and tryorama's consistency signals."""

    TOML_KEYS = ("consistency", "trace")

    trace: bool = False
    consistency: bool = False


@dataclass
class LimitsConfig(_Table):
    """``[limits]`` (this conductor's extension): bounds on what clients and zomes may use."""

    max_call_ms: int = 90_000  # a zome call, waits included (tryorama gives up at 90 s)
    max_blocking_ms: int = 3_000  # a zome call holding the event loop without waiting
    max_message_bytes: int = 5 * 1024 * 1024  # a request (holochain-rust's ws limit)
    max_in_flight: int = 256  # requests per WebSocket connection before reading pauses
    max_connections: int = 1024  # per interface
    wasm_fuel: int = 2_000_000_000  # WebAssembly fuel per call (published DNAs' heaviest calls use < 2 M)
    wasm_time_ms: int = 90_000  # wall-clock deadline of one WebAssembly call, host waits included
    wasm_memory_mb: int = 256  # linear memory of one WebAssembly instance (HDK zomes start at 1.4 MiB)
    explicit: bool = False  # written back only when the file had the table

    TOML_KEYS = (
        "max_blocking_ms",
        "max_call_ms",
        "max_connections",
        "max_in_flight",
        "max_message_bytes",
        "wasm_fuel",
        "wasm_time_ms",
        "wasm_memory_mb",
    )


@dataclass
class Configuration:
    """A whole conductor configuration: every table, plus what is kept verbatim and the unknown keys
    found."""

    agents: list[AgentConfig] = field(default_factory=list)
    dnas: list[DnaConfig] = field(default_factory=list)
    instances: list[InstanceConfig] = field(default_factory=list)
    interfaces: list[InterfaceConfig] = field(default_factory=list)
    bridges: list[BridgeConfig] = field(default_factory=list)
    ui_bundles: list[UiBundleConfig] = field(default_factory=list)
    ui_interfaces: list[UiInterfaceConfig] = field(default_factory=list)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    network: dict[str, Any] | None = None
    persistence_dir: str | None = None
    signals: SignalsConfig = field(default_factory=SignalsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    passphrase_service: dict[str, Any] = field(default_factory=lambda: {"type": "cmd"})
    dashboard: DashboardConfig | None = None  # [dashboard]: where the dashboard and /metrics are served
    extra: dict[str, Any] = field(default_factory=dict)  # tracing, dpki, … kept verbatim
    unknown_keys: list[str] = field(default_factory=list)

    # -- lookups -------------------------------------------------------------------

    def agent(self, agent_id: str) -> AgentConfig | None:
        return next((a for a in self.agents if a.id == agent_id), None)

    def dna(self, dna_id: str) -> DnaConfig | None:
        return next((d for d in self.dnas if d.id == dna_id), None)

    def instance(self, instance_id: str) -> InstanceConfig | None:
        return next((i for i in self.instances if i.id == instance_id), None)

    def interface(self, interface_id: str) -> InterfaceConfig | None:
        return next((i for i in self.interfaces if i.id == interface_id), None)

    def ui_bundle(self, bundle_id: str) -> UiBundleConfig | None:
        return next((b for b in self.ui_bundles if b.id == bundle_id), None)

    def copy(self) -> Configuration:
        return copy.deepcopy(self)

    # -- holochain-rust's consistency check (the parts that need no DNA file) -------

    def check_consistency(self) -> None:
        for kind, ids in (
            ("agent", [a.id for a in self.agents]),
            ("dna", [d.id for d in self.dnas]),
            ("instance", [i.id for i in self.instances]),
            ("interface", [i.id for i in self.interfaces]),
            ("UI bundle", [b.id for b in self.ui_bundles]),
            ("UI interface", [u.id for u in self.ui_interfaces]),
            ("bridge handle", [b.handle for b in self.bridges]),
        ):
            problem = next(filter(None, (id_problem(kind, i) for i in ids)), None)
            if problem is not None:
                raise ConfigError(problem)
            if kind.startswith(("UI", "bridge")):
                continue  # their duplicates are reported where they are added, in holochain-rust's words
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ConfigError(f"Duplicate {kind} IDs detected: {', '.join(dupes)}")
        paths = [i.storage.path for i in self.instances if i.storage.persistent and i.storage.path]
        if len(paths) != len(set(paths)):
            raise ConfigError("Forbidden duplicated file storage value encountered.")
        for inst in self.instances:
            if self.agent(inst.agent) is None:
                raise ConfigError(f"Agent configuration {inst.agent} not found, mentioned in instance {inst.id}")
            if self.dna(inst.dna) is None:
                raise ConfigError(f'DNA configuration "{inst.dna}" not found, mentioned in instance "{inst.id}"')
        for iface in self.interfaces:
            for ref in iface.instances:
                if self.instance(ref.id) is None:
                    raise ConfigError(f'Instance configuration "{ref.id}" not found, mentioned in interface')
        for bridge in self.bridges:
            for inst_id in (bridge.caller_id, bridge.callee_id):
                if self.instance(inst_id) is None:
                    raise ConfigError(f'Instance configuration "{inst_id}" not found, mentioned in bridge')
        for ui in self.ui_interfaces:
            if self.ui_bundle(ui.bundle) is None:
                raise ConfigError(f"UI bundle configuration {ui.bundle} not found, mentioned in UI interface {ui.id}")
            if ui.dna_interface is not None and self.interface(ui.dna_interface) is None:
                raise ConfigError(
                    f'DNA Interface configuration "{ui.dna_interface}" not found, mentioned in UI interface "{ui.id}"'
                )
        dpki = self.extra.get("dpki")
        if isinstance(dpki, dict) and self.instance(str(dpki.get("instance_id"))) is None:
            raise ConfigError(f'Instance configuration "{dpki.get("instance_id")}" not found, mentioned in dpki')
        self.instances_in_bridge_order()

    def instances_in_bridge_order(self) -> list[InstanceConfig]:
        """Instances callee-first, so a bridge's callee exists before its caller."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(inst_id: str) -> None:
            if state.get(inst_id) == 2:
                return
            if state.get(inst_id) == 1:
                raise ConfigError("Cyclic dependency in bridge configuration")
            state[inst_id] = 1
            for b in self.bridges:
                if b.caller_id == inst_id:
                    visit(b.callee_id)
            state[inst_id] = 2
            order.append(inst_id)

        for inst in self.instances:
            visit(inst.id)
        return [i for i in (self.instance(x) for x in order) if i is not None]
