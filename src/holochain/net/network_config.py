"""From a conductor's ``[network]`` table to the :class:`~.dht.Network` an instance joins.

* no ``[network]``: each instance gets a network of its own, as in
  holochain-rust (``crates/net/src/p2p_config.rs``): it works alone and sees
  nobody else;
* ``type = "memory"``: instances (of any conductor in this process) whose
  tables have the same ``name`` share one in-process network; a table
  without ``name`` shares the process-wide network named ``"memory"``;
* ``type = "nats"``: conductors anywhere share a DHT through a NATS server
  or cluster (:mod:`.nats`); ``servers`` lists its URLs (``nats://``,
  ``tls://``, ``ws://``, ``wss://``), tried in turn, failed over between;
* ``type = "sim2h"``: holochain-rust's relay, whose ``sim2h_url`` is taken as
  the URL of the NATS server to use — a ``ws://`` URL reaches nats-server's
  WebSocket listener — so unmodified tryorama and app_spec configurations
  connect;
* ``type = "lib3h"``: holochain-rust's peer-to-peer engine, whose protocol
  this conductor does not speak: such an instance runs offline, on a network
  of its own, and a warning says so.

Keys every networked type takes (this implementation's; all optional):
``redundancy`` (R: each op is held by the R agents nearest its address,
default 5, so a space holds by arcs at any size and below R+1 agents
everyone holds everything; 0 asks for full sync at any size),
``gossip_interval_ms`` (anti-entropy period, default 1000; 0 turns periodic
gossip off), ``request_timeout_ms`` (default 30000) and
``agent_info_ttl_ms`` (how long a signed agent record lasts unless signed
again, default 20 minutes; membership is spread by gossip, see
:mod:`.peers`).  NATS and sim2h also take ``heartbeat_interval_ms`` (the
relay connection is pinged every four, default 1000), ``connect_timeout_ms``,
and for
authentication ``user`` + ``password``, ``token``, ``credentials`` (a
``.creds`` file) or ``nkey_seed`` (a seed file) — the last two need the
``nkeys`` package — and for TLS ``tls_ca_file``, ``tls_cert_file``,
``tls_key_file``, ``tls_hostname``.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from ..core import json as cjson
from ..core.errors import NetworkError
from .dht import DEFAULT_REDUNDANCY, Network
from .memory_switchboard import MemorySwitchboard

__all__ = ["network_for_instance", "NetworkConfigError", "shared_memory_network", "NETWORK_KEYS"]

log = logging.getLogger(__name__)

_shared: weakref.WeakValueDictionary[str, Network] = weakref.WeakValueDictionary()
_OFFLINE_TYPES = ("lib3h",)
_DHT_KEYS = ("redundancy", "gossip_interval_ms", "request_timeout_ms", "agent_info_ttl_ms")
_NATS_KEYS = (
    "heartbeat_interval_ms",
    "presence_ttl_ms",  # accepted from older configurations; presence is no longer broadcast
    "connect_timeout_ms",
    "user",
    "password",
    "token",
    "credentials",
    "nkey_seed",
    "tls_ca_file",
    "tls_cert_file",
    "tls_key_file",
    "tls_hostname",
)
NETWORK_KEYS = {
    "memory": ("type", "name") + _DHT_KEYS,
    "nats": ("type", "servers") + _DHT_KEYS + _NATS_KEYS,
    "sim2h": ("type", "sim2h_url") + _DHT_KEYS + _NATS_KEYS,
}


class NetworkConfigError(NetworkError, ValueError):
    """A ``[network]`` table this conductor cannot use; the text says why."""


def shared_memory_network(
    name: str,
    *,
    redundancy: int = DEFAULT_REDUNDANCY,
    request_timeout: float = 30.0,
    gossip_interval: float = 1.0,
    info_ttl: float = 1200.0,
) -> Network:
    """The process-wide memory network called ``name`` (created on first use)."""
    network = _shared.get(name)
    if network is None:
        network = Network(
            MemorySwitchboard(name),
            redundancy=redundancy,
            request_timeout=request_timeout,
            gossip_interval=gossip_interval,
            info_ttl=info_ttl,
            name=name,
        )
        _shared[name] = network
    elif network.redundancy != redundancy:
        raise NetworkConfigError(
            f"memory network '{name}' already runs with redundancy {network.redundancy}, not {redundancy}"
        )
    return network


def _int(config: dict[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a non-negative integer" if minimum == 0 else f"an integer of at least {minimum}"
        hint = " (0 = full sync)" if key == "redundancy" else ""
        raise NetworkConfigError(f"[network] {key} must be {what}{hint}")
    return value


def _str(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise NetworkConfigError(f"[network] {key} must be a non-empty string")
    return value


def _dht_params(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "redundancy": _int(config, "redundancy", DEFAULT_REDUNDANCY),
        "request_timeout": _int(config, "request_timeout_ms", 30000, minimum=1) / 1000,
        "gossip_interval": _int(config, "gossip_interval_ms", 1000) / 1000,
        "info_ttl": _int(config, "agent_info_ttl_ms", 1_200_000, minimum=1000) / 1000,
    }


def _servers(config: dict[str, Any], kind: str) -> list[str]:
    if kind == "sim2h":
        url = _str(config, "sim2h_url")
        if url is None:
            raise NetworkConfigError('[network] type = "sim2h" needs sim2h_url (the relay\'s URL)')
        servers = [url]
    else:
        listed: Any = config.get("servers")
        servers = [listed] if isinstance(listed, str) else listed
        if not isinstance(servers, list) or not servers or not all(isinstance(s, str) and s for s in servers):
            raise NetworkConfigError('[network] servers must list the NATS server URLs, e.g. ["nats://127.0.0.1:4222"]')
    for url in servers:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("nats", "tls", "ws", "wss"):
            raise NetworkConfigError(f"[network] server URL {url!r} must start with nats://, tls://, ws:// or wss://")
    return servers


def _nats_network(config: dict[str, Any], kind: str) -> Network:
    from .nats import NatsOptions, NatsSwitchboard

    servers = _servers(config, kind)
    heartbeat = _int(config, "heartbeat_interval_ms", 1000, minimum=10) / 1000
    options = NatsOptions(
        servers=servers,
        heartbeat=heartbeat,
        presence_ttl=_int(config, "presence_ttl_ms", 0) / 1000,
        connect_timeout=_int(config, "connect_timeout_ms", 2000, minimum=1) / 1000,
        user=_str(config, "user"),
        password=_str(config, "password"),
        token=_str(config, "token"),
        credentials=_str(config, "credentials"),
        nkey_seed=_str(config, "nkey_seed"),
        tls_ca_file=_str(config, "tls_ca_file"),
        tls_cert_file=_str(config, "tls_cert_file"),
        tls_key_file=_str(config, "tls_key_file"),
        tls_hostname=_str(config, "tls_hostname"),
    )
    if "presence_ttl_ms" in config:
        log.info("[network] presence_ttl_ms is no longer used: agents' records last agent_info_ttl_ms")
    name = f"{kind}:{','.join(servers)}"
    return Network(NatsSwitchboard(options, name=name), name=name, owned=True, **_dht_params(config))


def network_for_instance(
    config: dict[str, Any] | None, instance_id: str, networks: dict[str, Network] | None = None
) -> Network:
    """The network an instance joins, given the conductor's ``[network]`` table.

    ``networks`` is the conductor's own cache: its instances share one
    relay connection per distinct table (the conductor closes them).
    """
    if config is None:
        return Network.private()
    kind = config.get("type")
    if kind in NETWORK_KEYS:
        unknown = sorted(set(config) - set(NETWORK_KEYS[kind]))
        if unknown:
            log.warning("[network] type = %r: ignoring unknown keys %s", kind, ", ".join(unknown))
    if kind == "memory":
        name = config.get("name", "memory")
        if not isinstance(name, str) or not name:
            raise NetworkConfigError("[network] name must be a non-empty string")
        return shared_memory_network(name, **_dht_params(config))
    if kind in ("nats", "sim2h"):
        key = cjson.dumps(config)
        if networks is not None and key in networks:
            return networks[key]
        network = _nats_network(config, kind)
        if networks is not None:
            networks[key] = network
        return network
    if kind in _OFFLINE_TYPES:
        log.warning(
            "instance '%s': [network] type = %r is holochain-rust's networking, which this conductor "
            "does not speak; the instance runs offline (alone on its own network)",
            instance_id,
            kind,
        )
        return Network.private()
    raise NetworkConfigError(f'[network] type {kind!r} is not supported; use "nats", "sim2h" or "memory"')
