"""The conductor configuration file: holochain-rust's TOML, parsed, checked and written back.

Parsing is strict about what holochain-rust requires and says exactly which
key is wrong (``instances[1].storage: missing key `type` ``); unknown keys and
tables are kept out of the model (:mod:`.config`) and reported so the caller
can log them.  :func:`to_toml` writes the configuration back (for admin
changes), :func:`write_config_atomically` so that a crash never leaves half a file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from ..core.private_files import write_private
from .config import (
    AgentConfig,
    BridgeConfig,
    ConfigError,
    Configuration,
    DnaConfig,
    InstanceConfig,
    InstanceRef,
    InterfaceConfig,
    LimitsConfig,
    LoggerConfig,
    SignalsConfig,
    StorageConfig,
    UiBundleConfig,
    UiInterfaceConfig,
)
from .dashboard_config import parse_dashboard
from .log_rules import parse_log_rules
from .passphrase import SERVICE_KEYS

__all__ = ["load_config", "parse_config", "to_toml", "write_config_atomically", "STORAGE_KINDS"]

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
    "dashboard",
    "passphrase_service",
    "metric_publisher",
}


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
    encrypted = _get(value, "encrypted", f"{where}.storage", bool, required=False)
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
            explicit=True,
        )
        try:
            parse_log_rules(config.logger.rules)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if "signals" in data:
        sg = _get(data, "signals", "config", dict)
        config.signals = SignalsConfig(
            trace=_get(sg, "trace", "signals", bool), consistency=_get(sg, "consistency", "signals", bool)
        )
    if "limits" in data:
        table = _get(data, "limits", "config", dict)
        unknown = sorted(set(table) - set(LimitsConfig.TOML_KEYS))
        if unknown:
            raise ConfigError(f"limits: unknown key `{unknown[0]}`; the keys are {', '.join(LimitsConfig.TOML_KEYS)}")
        config.limits = LimitsConfig(explicit=True)
        for key in LimitsConfig.TOML_KEYS:
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
    if "dashboard" in data:
        config.dashboard = parse_dashboard(_get(data, "dashboard", "config", dict), ConfigError)
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
    doc["signals"] = config.signals.to_dict()
    if config.dashboard is not None:
        doc["dashboard"] = config.dashboard.to_dict()
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
