"""core: the data model and its rules, free of I/O — what holochain-rust's ``core_types`` holds.

Addresses (:mod:`.address`, :mod:`.hcid`), entries and headers
(:mod:`.entry`, :mod:`.header`), the DNA (:mod:`.dna`), keys and signatures
(:mod:`.crypto`, :mod:`.keys`), the DHT ops a record becomes
(:mod:`.dht_ops`), CRUD and link semantics (:mod:`.crud`, :mod:`.links`),
chain queries (:mod:`.query`), validation rules (:mod:`.validation`), the
wire JSON (:mod:`.json`, :mod:`.rust_text`) and the clock and random source
the rules read (:mod:`.time`, :mod:`.randomness`).  :mod:`.errors` is the
root of the one exception tree.  Nothing here imports another layer.
"""

from .address import address_of
from .crypto import AgentKey
from .dht_ops import DhtOp
from .dna import Dna
from .entry import Entry
from .errors import (
    CoreError,
    HolochainError,
    HolochainPyError,
    HostingError,
    InterfaceError,
    NetworkError,
    RibosomeError,
    RibosomeErrorCode,
    StorageError,
    WorkflowError,
    ZomeApiError,
    ZomeError,
)
from .header import ChainHeader

__all__ = [
    "address_of",
    "AgentKey",
    "ChainHeader",
    "DhtOp",
    "Dna",
    "Entry",
    "HolochainPyError",
    "CoreError",
    "StorageError",
    "NetworkError",
    "ZomeError",
    "WorkflowError",
    "HostingError",
    "InterfaceError",
    "HolochainError",
    "RibosomeError",
    "RibosomeErrorCode",
    "ZomeApiError",
]
