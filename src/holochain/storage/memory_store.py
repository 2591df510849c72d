"""In-memory storage: for ``hc run`` without ``--persist``, and for tests.

:class:`Tables` is also the SQLite store's overlay of rows not yet durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedList

from .base import (
    ChainRow,
    CrudState,
    EavRow,
    LinkFact,
    WriteBatch,
    merge_crud,
    merge_link,
)

__all__ = ["MemoryStore", "Tables", "LinkIndex", "link_keys"]


def link_keys(fact: LinkFact) -> tuple[tuple[str | None, str | None], ...]:
    """The (type, upper-case tag) selections a link state belongs to: None is any."""
    utag = fact.utag
    return ((fact.link_type, utag), (fact.link_type, None), (None, utag), (None, None))


class LinkIndex:
    """The links of one base: current state per LinkAdd, ordered per selection, counted."""

    __slots__ = ("states", "ordered", "counts", "by_target")

    def __init__(self) -> None:
        self.states: dict[str, LinkFact] = {}
        self.by_target: dict[str, dict[str, None]] = {}  # target -> LinkAdds
        self.ordered: dict[tuple[str | None, str | None], SortedList] = {}  # of (index, link_add)
        self.counts: dict[tuple[str | None, str | None], list[int]] = {}  # [live, deleted]

    def apply(self, fact: LinkFact) -> None:
        old = self.states.get(fact.link_add)
        new = merge_link(old, fact)
        if new is old:
            return
        if old is not None:
            self._account(old, -1)
        self.states[fact.link_add] = new
        self._account(new, 1)
        if new.target is not None and (old is None or old.target is None):
            self.by_target.setdefault(new.target, {})[new.link_add] = None

    def _account(self, state: LinkFact, sign: int) -> None:
        item = (state.index, state.link_add)
        for key in link_keys(state):
            ordered = self.ordered.get(key)
            if ordered is None:
                ordered = self.ordered[key] = SortedList()
            if sign > 0:
                ordered.add(item)
            else:
                ordered.remove(item)
            if state.target is not None:
                count = self.counts.setdefault(key, [0, 0])
                count[state.removed_by is not None] += sign

    def page(
        self,
        link_type: str | None,
        utag: str | None,
        descending: bool,
        offset: int,
        limit: int | None,
        after_index: int | None,
    ) -> list[LinkFact]:
        ordered = self.ordered.get((link_type, utag))
        if not ordered:
            return []
        if after_index is not None:
            start = ordered.bisect_left((after_index + 1, ""))
            items = ordered.islice(start, len(ordered), reverse=descending)
        else:
            items = ordered.islice(0, len(ordered), reverse=descending)
        out: list[LinkFact] = []
        skipped = 0
        for _, link_add in items:
            if skipped < offset:
                skipped += 1
                continue
            if limit is not None and len(out) >= limit:
                break
            out.append(self.states[link_add])
        return out

    def count(self, link_type: str | None, utag: str | None) -> tuple[int, int]:
        live, deleted = self.counts.get((link_type, utag), (0, 0))
        return live, deleted


class Tables:
    """The rows of a store, indexed the ways the instance reads them.  Link facts are kept as
    a list per base only with ``link_facts`` (the SQLite store's overlay merges them with
    what is on disk); a memory store keeps their states in a :class:`LinkIndex` instead."""

    def __init__(self, *, link_facts: bool = False) -> None:
        self.link_facts = link_facts
        self.chain: dict[int, ChainRow] = {}
        self.contents: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {}  # entry -> header address -> header
        self.eav: dict[str, dict[EavRow, None]] = {}  # ordered sets
        self.kv: dict[str, str] = {}
        self.crud: dict[str, CrudState] = {}
        self.links: dict[str, list[LinkFact]] = {}  # base -> facts in order (the overlay's view)

    def apply(self, batch: WriteBatch) -> None:
        for row in batch.chain:
            self.chain[row.seq] = row
        self.contents.update(batch.contents)
        for entry_address, header_address, header in batch.headers:
            self.headers.setdefault(entry_address, {})[header_address] = header
        for eav_row in batch.eav:
            self.eav.setdefault(eav_row.entity, {})[eav_row] = None
        self.kv.update(batch.kv)
        crud = self.crud
        for fact in batch.crud:
            crud[fact.address] = merge_crud(crud.get(fact.address), fact)
        if self.link_facts:
            for link in batch.links:
                self.links.setdefault(link.base, []).append(link)

    def eav_rows(self, entity: str, attribute_prefix: str) -> list[EavRow]:
        rows = self.eav.get(entity, {})
        if not attribute_prefix:
            return list(rows)
        return [r for r in rows if r.attribute.startswith(attribute_prefix)]

    def eav_any(self, entity: str, attribute_prefix: str) -> bool:
        rows = self.eav.get(entity)
        if not rows:
            return False
        return not attribute_prefix or any(r.attribute.startswith(attribute_prefix) for r in rows)


class MemoryStore:
    """Everything in dicts; every write is "durable" at once."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._links: dict[str, LinkIndex] = {}
        self._length = 0
        self._seq_by_header: dict[str, int] = {}
        self.durable_ticket = 0

    def write(self, batch: WriteBatch) -> int:
        self._tables.apply(batch)
        for fact in batch.links:
            index = self._links.get(fact.base)
            if index is None:
                index = self._links[fact.base] = LinkIndex()
            index.apply(fact)
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

    def eav_any(self, entity: str, attribute_prefix: str = "") -> bool:
        return self._tables.eav_any(entity, attribute_prefix)

    def crud(self, address: str) -> CrudState | None:
        return self._tables.crud.get(address)

    def link_page(
        self,
        base: str,
        link_type: str | None,
        tag: str | None,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int | None = None,
        after_index: int | None = None,
    ) -> list[LinkFact]:
        index = self._links.get(base)
        if index is None:
            return []
        utag = tag.upper() if tag is not None else None
        return index.page(link_type, utag, descending, offset, limit, after_index)

    def link_count(self, base: str, link_type: str | None, tag: str | None) -> tuple[int, int]:
        index = self._links.get(base)
        return (0, 0) if index is None else index.count(link_type, tag.upper() if tag is not None else None)

    def links_to(self, base: str, target: str) -> list[LinkFact]:
        index = self._links.get(base)
        if index is None:
            return []
        states = index.states
        return [states[link_add] for link_add in index.by_target.get(target, ())]

    def kv_get(self, key: str) -> str | None:
        return self._tables.kv.get(key)

    def held_counts(self) -> tuple[int, int]:
        headers = self._tables.headers
        return len(headers), sum(len(h) for h in headers.values())

    def close(self) -> None:
        pass
