"""In-memory storage: for ``hc run`` without ``--persist``, and for tests.

:class:`Tables` is also the SQLite store's overlay of rows not yet durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from .base import ChainRow, EavRow, WriteBatch

__all__ = ["MemoryStore", "Tables"]


class Tables:
    """The rows of a store, indexed the ways the instance reads them."""

    def __init__(self) -> None:
        self.chain: dict[int, ChainRow] = {}
        self.contents: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {}  # entry -> header address -> header
        self.eav: dict[str, dict[EavRow, None]] = {}  # ordered sets
        self.kv: dict[str, str] = {}

    def apply(self, batch: WriteBatch) -> None:
        for row in batch.chain:
            self.chain[row.seq] = row
        self.contents.update(batch.contents)
        for entry_address, header_address, header in batch.headers:
            self.headers.setdefault(entry_address, {})[header_address] = header
        for fact in batch.eav:
            self.eav.setdefault(fact.entity, {})[fact] = None
        self.kv.update(batch.kv)

    def eav_rows(self, entity: str, attribute_prefix: str) -> list[EavRow]:
        rows = self.eav.get(entity, {})
        if not attribute_prefix:
            return list(rows)
        return [r for r in rows if r.attribute.startswith(attribute_prefix)]


class MemoryStore:
    """Everything in dicts; every write is "durable" at once."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._length = 0
        self._seq_by_header: dict[str, int] = {}
        self.durable_ticket = 0

    def write(self, batch: WriteBatch) -> int:
        self._tables.apply(batch)
        for row in batch.chain:
            self._seq_by_header[row.header_address] = row.seq
        if batch.chain:
            self._length = max(self._length, batch.chain[-1].seq + 1)
        self.durable_ticket += 1
        return self.durable_ticket

    def wait_durable(self, ticket: int, result: Any = None) -> asyncio.Future[Any] | None:
        return None

    def chain_length(self) -> int:
        return self._length

    def chain_rows(self, start: int = 0) -> Iterator[ChainRow]:
        chain = self._tables.chain
        for seq in range(start, self._length):
            yield chain[seq]

    def chain_row(self, seq: int) -> ChainRow | None:
        return self._tables.chain.get(seq)

    def chain_seq(self, header_address: str) -> int | None:
        return self._seq_by_header.get(header_address)

    def chain_records(self, start: int = 0, end: int | None = None) -> Iterator[tuple[ChainRow, str | None]]:
        for seq in range(start, self._length if end is None else min(end, self._length)):
            row = self._tables.chain[seq]
            yield row, self._tables.contents.get(row.entry_address)

    def get_content(self, address: str) -> str | None:
        return self._tables.contents.get(address)

    def held_headers(self, entry_address: str) -> list[str]:
        return list(self._tables.headers.get(entry_address, {}).values())

    def eav(self, entity: str, attribute_prefix: str = "") -> list[EavRow]:
        return self._tables.eav_rows(entity, attribute_prefix)

    def kv_get(self, key: str) -> str | None:
        return self._tables.kv.get(key)

    def held_counts(self) -> tuple[int, int]:
        headers = self._tables.headers
        return len(headers), sum(len(h) for h in headers.values())

    def close(self) -> None:
        pass
