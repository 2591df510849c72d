"""The conductor configuration: holochain-rust's TOML schema, parsed and checked.

Parsing is strict about what holochain-rust requires and says exactly which
key is wrong (``instances[1].storage: missing key `type` ``); unknown keys and
tables are kept out of the model and reported so the caller can log them.
:meth:`Configuration.check_consistency` runs holochain-rust's cross-reference
checks (duplicate ids, dangling references, shared storage paths, cyclic
bridges); checks that need DNA files happen when the conductor loads them.
:func:`to_toml` writes the configuration back (for admin changes).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ..core.private_files import write_private
from .ids import id_problem
from .passphrase import SERVICE_KEYS

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
    "load_config",
    "parse_config",
    "to_toml",
    "write_config_atomically",
    "STORAGE_KINDS",
]

STORAGE_KINDS = ("memory", "file", "pickle", "lmdb", "sqlite")
INTERFACE_DRIVERS = ("websocket", "http", "domainsocket", "custom")
_TOP_KEYS = {
    "limits",
    "agents",
    "dnas",
    "instances",
    "interfaces",
    "bridges",
    "ui_bundles",
    "ui_interfaces",
    "logger",
    "tracing",
    "network",
    "persistence_dir",
    "signing_service_uri",
    "encryption_service_uri",
    "decryption_service_uri",
    "dpki",
    "signals",
    "passphrase_service",
    "metric_publisher",
}


class ConfigError(ValueError):
    """A configuration holochain-rust would refuse; the message names the key and why."""


# -- small typed readers that name the offending key ------------------------------------


def _get(
    table: dict[str, Any],
    key: str,
    where: str,
    kind: type | tuple[type, ...],
    *,
    required: bool = True,
    default: Any = None,
) -> Any:
    if key not in table:
        if required:
            raise ConfigError(f"{where}: missing key `{key}`")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        names = {
            "str": "a string",
            "bool": "a boolean",
            "int": "an integer",
            "list": "an array",
            "dict": "a table",
        }.get(names, names)
        raise ConfigError(f"{where}: `{key}` must be {names}")
    return value


def _table_list(config: dict[str, Any], key: str, *, required: bool = False) -> list[dict[str, Any]]:
    items = _get(config, key, "config", list, required=required, default=[])
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(f"{key}[{i}] must be a table")
    return items


def _port(table: dict[str, Any], where: str) -> int:
    port = _get(table, "port", where, int)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{where}: `port` must be between 0 and 65535, not {port}")
    return port


# -- the model --------------------------------------------------------------------------


@dataclass
class AgentConfig:
    id: str
    name: str
    public_address: str
    keystore_file: str
    holo_remote_key: bool | None = None
    test_agent: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "keystore_file": self.keystore_file,
            "name": self.name,
            "public_address": self.public_address,
        }
        if self.holo_remote_key is not None:
            out["holo_remote_key"] = self.holo_remote_key
        if self.test_agent is not None:
            out["test_agent"] = self.test_agent
        return out

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
class DnaConfig:
    id: str
    file: str
    hash: str
    uuid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"file": self.file, "hash": self.hash, "id": self.id}
        if self.uuid is not None:
            out["uuid"] = self.uuid
        return out


@dataclass
class StorageConfig:
    type: str
    path: str | None = None
    initial_mmap_bytes: int | None = None
    encrypted: bool = False  # our extension: SQLCipher, keyed from the agent's keystore

    @property
    def persistent(self) -> bool:
        return self.type != "memory"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.path is not None:
            out["path"] = self.path
        if self.initial_mmap_bytes is not None:
            out["initial_mmap_bytes"] = self.initial_mmap_bytes
        if self.encrypted:
            out["encrypted"] = True
        return out


@dataclass
class InstanceConfig:
    id: str
    dna: str
    agent: str
    storage: StorageConfig

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "dna": self.dna, "id": self.id, "storage": self.storage.to_dict()}

    def summary(self) -> dict[str, str]:
        return {"id": self.id, "dna": self.dna, "agent": self.agent}


@dataclass
class InstanceRef:
    id: str
    alias: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id}
        if self.alias is not None:
            out["alias"] = self.alias
        return out


@dataclass
class InterfaceConfig:
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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"admin": self.admin}
        if self.allowed_origins is not None:
            out["allowed_origins"] = self.allowed_origins
        if self.bind_address is not None:
            out["bind_address"] = self.bind_address
        if self.choose_free_port is not None:
            out["choose_free_port"] = self.choose_free_port
        out["id"] = self.id
        out["driver"] = dict(self.driver)
        out["instances"] = [i.to_dict() for i in self.instances]
        return out

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
class BridgeConfig:
    caller_id: str
    callee_id: str
    handle: str

    def to_dict(self) -> dict[str, Any]:
        return {"callee_id": self.callee_id, "caller_id": self.caller_id, "handle": self.handle}


@dataclass
class UiBundleConfig:
    id: str
    root_dir: str
    hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "root_dir": self.root_dir}
        if self.hash is not None:
            out["hash"] = self.hash
        return out


@dataclass
class UiInterfaceConfig:
    id: str
    bundle: str
    port: int
    dna_interface: str | None = None
    reroute_to_root: bool = True
    bind_address: str = "127.0.0.1"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bind_address": self.bind_address, "bundle": self.bundle}
        if self.dna_interface is not None:
            out["dna_interface"] = self.dna_interface
        out.update({"id": self.id, "port": self.port, "reroute_to_root": self.reroute_to_root})
        return out


@dataclass
class LoggerConfig:
    type: str = "debug"
    rules: dict[str, Any] = field(default_factory=dict)
    state_dump: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state_dump": self.state_dump, "type": self.type}
        if self.rules:
            out["rules"] = self.rules
        return out


@dataclass
class SignalsConfig:
    trace: bool = False
    consistency: bool = False


@dataclass
class LimitsConfig:
    """``[limits]`` (this conductor's extension): bounds on what clients and zomes may use."""

    max_call_ms: int = 90_000  # a zome call, waits included (tryorama gives up at 90 s)
    max_blocking_ms: int = 3_000  # a zome call holding the event loop without waiting
    max_message_bytes: int = 5 * 1024 * 1024  # a request (holochain-rust's ws limit)
    max_in_flight: int = 256  # requests per WebSocket connection before reading pauses
    max_connections: int = 1024  # per interface
    explicit: bool = False  # written back only when the file had the table

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _LIMIT_KEYS}


_LIMIT_KEYS = ("max_blocking_ms", "max_call_ms", "max_connections", "max_in_flight", "max_message_bytes")


@dataclass
class Configuration:
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


# -- parsing -----------------------------------------------------------------------------


def _parse_storage(value: Any, where: str) -> StorageConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `storage` must be a table")
    kind = _get(value, "type", f"{where}.storage", str)
    if kind not in STORAGE_KINDS:
        raise ConfigError(f"{where}.storage: unknown storage type `{kind}`; use one of {', '.join(STORAGE_KINDS)}")
    path = None
    if kind != "memory":
        path = _get(value, "path", f"{where}.storage", str)
    mmap = _get(value, "initial_mmap_bytes", f"{where}.storage", int, required=False)
    encrypted = _get(value, "encrypted", f"{where}.storage", bool, required=False, default=False)
    if encrypted and kind == "memory":
        raise ConfigError(f"{where}.storage: `encrypted` is for stores on disk; a memory store has no file")
    return StorageConfig(kind, path, mmap, encrypted)


def _parse_interface(value: dict[str, Any], where: str) -> InterfaceConfig:
    driver = _get(value, "driver", where, dict)
    kind = _get(driver, "type", f"{where}.driver", str)
    if kind not in INTERFACE_DRIVERS:
        raise ConfigError(f"{where}.driver: unknown interface type `{kind}`; use websocket or http")
    if kind in ("websocket", "http"):
        driver = {"type": kind, "port": _port(driver, f"{where}.driver")}
    refs = []
    for j, ref in enumerate(_get(value, "instances", where, list, required=False, default=[])):
        if not isinstance(ref, dict):
            raise ConfigError(f"{where}.instances[{j}] must be a table")
        refs.append(
            InstanceRef(
                _get(ref, "id", f"{where}.instances[{j}]", str),
                _get(ref, "alias", f"{where}.instances[{j}]", str, required=False),
            )
        )
    origins = _get(value, "allowed_origins", where, list, required=False)
    if origins is not None and not all(isinstance(o, str) for o in origins):
        raise ConfigError(f"{where}: `allowed_origins` must be an array of strings")
    return InterfaceConfig(
        id=_get(value, "id", where, str),
        driver=driver,
        admin=_get(value, "admin", where, bool, required=False, default=False),
        instances=refs,
        choose_free_port=_get(value, "choose_free_port", where, bool, required=False),
        bind_address=_get(value, "bind_address", where, str, required=False),
        allowed_origins=origins,
    )


def parse_config(data: dict[str, Any]) -> Configuration:
    """Build a :class:`Configuration` from parsed TOML (raises :class:`ConfigError`)."""
    config = Configuration()
    config.unknown_keys = sorted(k for k in data if k not in _TOP_KEYS)
    if "agents" not in data:
        raise ConfigError("config: missing key `agents` (write `agents = []` for none)")
    for i, a in enumerate(_table_list(data, "agents", required=True)):
        w = f"agents[{i}]"
        config.agents.append(
            AgentConfig(
                id=_get(a, "id", w, str),
                name=_get(a, "name", w, str),
                public_address=_get(a, "public_address", w, str),
                keystore_file=_get(a, "keystore_file", w, str),
                holo_remote_key=_get(a, "holo_remote_key", w, bool, required=False),
                test_agent=_get(a, "test_agent", w, bool, required=False),
            )
        )
    for i, d in enumerate(_table_list(data, "dnas")):
        w = f"dnas[{i}]"
        config.dnas.append(
            DnaConfig(
                id=_get(d, "id", w, str),
                file=_get(d, "file", w, str),
                hash=_get(d, "hash", w, str),
                uuid=_get(d, "uuid", w, str, required=False),
            )
        )
    for i, inst in enumerate(_table_list(data, "instances")):
        w = f"instances[{i}]"
        if "storage" not in inst:
            raise ConfigError(f"{w}: missing key `storage`")
        config.instances.append(
            InstanceConfig(
                id=_get(inst, "id", w, str),
                dna=_get(inst, "dna", w, str),
                agent=_get(inst, "agent", w, str),
                storage=_parse_storage(inst["storage"], w),
            )
        )
    for i, iface in enumerate(_table_list(data, "interfaces")):
        config.interfaces.append(_parse_interface(iface, f"interfaces[{i}]"))
    for i, b in enumerate(_table_list(data, "bridges")):
        w = f"bridges[{i}]"
        config.bridges.append(
            BridgeConfig(_get(b, "caller_id", w, str), _get(b, "callee_id", w, str), _get(b, "handle", w, str))
        )
    for i, u in enumerate(_table_list(data, "ui_bundles")):
        w = f"ui_bundles[{i}]"
        config.ui_bundles.append(
            UiBundleConfig(_get(u, "id", w, str), _get(u, "root_dir", w, str), _get(u, "hash", w, str, required=False))
        )
    for i, u in enumerate(_table_list(data, "ui_interfaces")):
        w = f"ui_interfaces[{i}]"
        config.ui_interfaces.append(
            UiInterfaceConfig(
                id=_get(u, "id", w, str),
                bundle=_get(u, "bundle", w, str),
                port=_port(u, w),
                dna_interface=_get(u, "dna_interface", w, str, required=False),
                reroute_to_root=_get(u, "reroute_to_root", w, bool, required=False, default=True),
                bind_address=_get(u, "bind_address", w, str, required=False, default="127.0.0.1"),
            )
        )
    if "logger" in data:
        lg = _get(data, "logger", "config", dict)
        config.logger = LoggerConfig(
            type=_get(lg, "type", "logger", str),
            rules=_get(lg, "rules", "logger", dict, required=False, default={}),
            state_dump=_get(lg, "state_dump", "logger", bool, required=False, default=False),
        )
    if "signals" in data:
        sg = _get(data, "signals", "config", dict)
        config.signals = SignalsConfig(
            trace=_get(sg, "trace", "signals", bool), consistency=_get(sg, "consistency", "signals", bool)
        )
    if "limits" in data:
        table = _get(data, "limits", "config", dict)
        unknown = sorted(set(table) - set(_LIMIT_KEYS))
        if unknown:
            raise ConfigError(f"limits: unknown key `{unknown[0]}`; the keys are {', '.join(_LIMIT_KEYS)}")
        config.limits = LimitsConfig(explicit=True)
        for key in _LIMIT_KEYS:
            value = _get(table, key, "limits", int, required=False, default=getattr(config.limits, key))
            if value <= 0:
                raise ConfigError(f"limits: `{key}` must be a positive integer")
            setattr(config.limits, key, value)
    if "network" in data:
        net = _get(data, "network", "config", dict)
        _get(net, "type", "network", str)
        config.network = dict(net)
    if "passphrase_service" in data:
        ps = _get(data, "passphrase_service", "config", dict)
        kind = _get(ps, "type", "passphrase_service", str)
        if kind not in SERVICE_KEYS:
            raise ConfigError(f"passphrase_service: unknown type `{kind}`; use one of {', '.join(SERVICE_KEYS)}")
        required, optional = SERVICE_KEYS[kind]
        for key in required:
            _get(ps, key, f"passphrase_service ({kind})", str)
        for key in optional:
            _get(
                ps,
                key,
                f"passphrase_service ({kind})",
                (int, float) if key.endswith("seconds") else str,
                required=False,
            )
        config.passphrase_service = dict(ps)
    config.persistence_dir = _get(data, "persistence_dir", "config", str, required=False)
    for key in (
        "tracing",
        "dpki",
        "metric_publisher",
        "signing_service_uri",
        "encryption_service_uri",
        "decryption_service_uri",
    ):
        if key in data:
            config.extra[key] = data[key]
    if isinstance(config.extra.get("dpki"), dict):
        for key in ("instance_id", "init_params"):
            _get(config.extra["dpki"], key, "dpki", str)
    return config


def load_config(path: Path) -> Configuration:
    """Read and parse a TOML config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start} is not)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Error loading configuration: {exc}") from None
    return parse_config(data)


# -- writing ------------------------------------------------------------------------------


def to_toml(config: Configuration) -> str:
    """The configuration as TOML: plain values first, then arrays of tables, then tables."""
    doc: dict[str, Any] = {}
    doc["bridges"] = [b.to_dict() for b in config.bridges]
    if config.persistence_dir is not None:
        doc["persistence_dir"] = config.persistence_dir
    for key in ("signing_service_uri", "encryption_service_uri", "decryption_service_uri"):
        if key in config.extra:
            doc[key] = config.extra[key]
    doc["ui_bundles"] = [u.to_dict() for u in config.ui_bundles]
    doc["ui_interfaces"] = [u.to_dict() for u in config.ui_interfaces]
    doc["agents"] = [a.to_dict() for a in config.agents]
    doc["dnas"] = [d.to_dict() for d in config.dnas]
    doc["instances"] = [i.to_dict() for i in config.instances]
    doc["interfaces"] = [i.to_dict() for i in config.interfaces]
    if config.limits.explicit:
        doc["limits"] = config.limits.to_dict()
    doc["logger"] = config.logger.to_dict()
    if config.network is not None:
        doc["network"] = config.network
    doc["passphrase_service"] = dict(config.passphrase_service)
    doc["signals"] = {"consistency": config.signals.consistency, "trace": config.signals.trace}
    for key in ("dpki", "tracing", "metric_publisher"):
        if key in config.extra:
            doc[key] = config.extra[key]
    return tomli_w.dumps(_drop_none(doc))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def write_config_atomically(config: Configuration, path: Path) -> None:
    """Write ``config`` to ``path`` so a crash leaves the old file or the new one, never half."""
    write_private(path, to_toml(config))  # it can hold passphrases and NATS credentials: 0600
