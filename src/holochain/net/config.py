"""From a conductor's ``[network]`` table to the :class:`~.dht.Network` an instance joins.

* no ``[network]``: each instance gets a network of its own, as in
  holochain-rust (``crates/net/src/p2p_config.rs``): it works alone and sees
  nobody else;
* ``type = "memory"``: instances (of any conductor in this process) whose
  tables have the same ``name`` share one in-process network; a table
  without ``name`` shares the process-wide network named ``"memory"``.
  ``redundancy`` (0 = every member holds everything, the default) and
  ``request_timeout_ms`` are this implementation's extensions;
* ``type = "sim2h"`` / ``"lib3h"``: holochain-rust's relay and engine, whose
  wire protocols this conductor does not speak.  Such an instance runs
  *offline*, on a network of its own (what holochain-rust does when its
  relay is unreachable), and a warning says so.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from .dht import Network
from .memory import MemorySwitchboard

__all__ = ["network_for_instance", "NetworkConfigError", "shared_memory_network"]

log = logging.getLogger(__name__)

_shared: "weakref.WeakValueDictionary[str, Network]" = weakref.WeakValueDictionary()
_OFFLINE_TYPES = ("sim2h", "lib3h")


class NetworkConfigError(ValueError):
    """A ``[network]`` table this conductor cannot use; the text says why."""


def shared_memory_network(name: str, *, redundancy: int = 0, request_timeout: float = 30.0) -> Network:
    """The process-wide memory network called ``name`` (created on first use)."""
    network = _shared.get(name)
    if network is None:
        network = Network(MemorySwitchboard(name), redundancy=redundancy, request_timeout=request_timeout,
                          name=name)
        _shared[name] = network
    elif network.redundancy != redundancy:
        raise NetworkConfigError(
            f"memory network '{name}' already runs with redundancy {network.redundancy}, not {redundancy}"
        )
    return network


def network_for_instance(config: dict[str, Any] | None, instance_id: str) -> Network:
    """The network an instance joins, given the conductor's ``[network]`` table."""
    if config is None:
        return Network.private()
    kind = config.get("type")
    if kind == "memory":
        name = config.get("name", "memory")
        if not isinstance(name, str) or not name:
            raise NetworkConfigError("[network] name must be a non-empty string")
        redundancy = config.get("redundancy", 0)
        if isinstance(redundancy, bool) or not isinstance(redundancy, int) or redundancy < 0:
            raise NetworkConfigError("[network] redundancy must be a non-negative integer (0 = full sync)")
        timeout_ms = config.get("request_timeout_ms", 30000)
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            raise NetworkConfigError("[network] request_timeout_ms must be a positive integer")
        return shared_memory_network(name, redundancy=redundancy, request_timeout=timeout_ms / 1000)
    if kind in _OFFLINE_TYPES:
        log.warning(
            "instance '%s': [network] type = %r is holochain-rust's networking, which this conductor "
            "does not speak yet; the instance runs offline (alone on its own network)", instance_id, kind
        )
        return Network.private()
    raise NetworkConfigError(f"[network] type {kind!r} is not supported; use \"memory\"")
