"""What an instance stores, and the one write path every store implements.

One store per instance holds both halves of holochain-rust's state:

* the **source chain**: headers in order (``seq`` 0 is the Dna header), and
* the **DHT shard**: the content-addressed entries this agent holds (its own,
  private ones included, and those it holds for others), the headers it holds
  per entry, and EAV metadata (CRUD status, CRUD links, links).

Every change goes through :meth:`Store.write` as one :class:`WriteBatch`, which
is applied atomically (the batch then belongs to the store: do not change it).  ``write`` returns a *ticket*; the batch is durable once
``durable_ticket >= ticket``.  Reads always see every batch already written,
durable or not, so the instance never waits on the disk to read its own writes,
and a reply waits only for the tickets of what it wrote (group commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.errors import StorageError

__all__ = ["WriteBatch", "Store", "StorageError", "ChainRow", "EavRow"]


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One source-chain record as stored: its position, its header (address and JSON text), and its
    entry's address and type."""

    seq: int
    header_address: str
    header: str  # header JSON text
    entry_address: str
    entry_type: str  # string form: post, %agent_id …


@dataclass(frozen=True, slots=True)
class EavRow:
    """One metadata fact: ``(entity, attribute, value)`` ordered by ``index`` (ns)."""

    entity: str
    attribute: str
    value: str
    index: int


@dataclass(slots=True)
class WriteBatch:
    """Rows to add in one atomic step."""

    chain: list[ChainRow] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)  # address -> entry JSON text
    headers: list[tuple[str, str, str]] = field(default_factory=list)  # entry, header address, header
    eav: list[EavRow] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.chain or self.contents or self.headers or self.eav or self.kv)


class Store(Protocol):
    """The storage of one instance (see the module docstring)."""

    durable_ticket: int

    # -- writing ---------------------------------------------------------------
    def write(self, batch: WriteBatch) -> int: ...
    def wait_durable(self, ticket: int, result: Any = None) -> asyncio.Future[Any] | None:
        """None if ``ticket`` is durable, else a future that completes with ``result`` once it is."""
        ...

    # -- chain -----------------------------------------------------------------
    def chain_length(self) -> int: ...
    def chain_rows(self, start: int = 0) -> Iterator[ChainRow]: ...
    def chain_row(self, seq: int) -> ChainRow | None: ...
    def chain_seq(self, header_address: str) -> int | None: ...
    def chain_records(self, start: int = 0, end: int | None = None) -> Iterator[tuple[ChainRow, str | None]]:
        """Chain rows with their entry's content (``None`` if missing), in order (for loading)."""
        ...

    # -- content and shard -----------------------------------------------------
    def get_content(self, address: str) -> str | None: ...
    def held_headers(self, entry_address: str) -> list[str]: ...
    def eav(self, entity: str, attribute_prefix: str = "") -> list[EavRow]: ...
    def kv_get(self, key: str) -> str | None: ...
    def held_counts(self) -> tuple[int, int]: ...  # (entries held, headers held), for InstanceStats

    def close(self) -> None: ...
