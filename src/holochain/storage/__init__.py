"""storage: where an instance's chain, shard and bookkeeping are kept.

:class:`Store` (:mod:`.base`) is what the instance writes and reads:
writes are :class:`WriteBatch` groups that return a *ticket*, durable once
the store says so.  :class:`MemoryStore` keeps everything in memory;
:class:`SqliteStore` keeps it in one SQLite file per instance, written by a
writer process with group commit.
"""

from ..core.errors import StorageError
from .base import ChainRow, Store, WriteBatch
from .memory_store import MemoryStore
from .sqlite import SqliteStore

__all__ = ["Store", "WriteBatch", "ChainRow", "StorageError", "MemoryStore", "SqliteStore"]
