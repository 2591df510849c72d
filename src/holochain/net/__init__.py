"""Networking: the DHT logic and the switchboards under it.

``Network`` (:mod:`.dht`) is what instances join; :mod:`.gossip` is its
anti-entropy bookkeeping; :mod:`.memory_switchboard` is the in-process switchboard and
:mod:`.nats` the relay one; :mod:`.network_config` maps a conductor's ``[network]``
table to a network.
"""

from .dht import DhtNode, DirectMessageError, Network, NodeHandler, settle
from .memory_switchboard import MemorySwitchboard
from .network_config import NetworkConfigError, network_for_instance, shared_memory_network
from .switchboard import NetworkError, Offline, RequestTimeout, Switchboard, Unreachable

__all__ = [
    "Network",
    "DhtNode",
    "NodeHandler",
    "settle",
    "DirectMessageError",
    "MemorySwitchboard",
    "Switchboard",
    "NetworkError",
    "RequestTimeout",
    "Unreachable",
    "Offline",
    "NetworkConfigError",
    "network_for_instance",
    "shared_memory_network",
]
