"""How the SQLite store reads: groups not yet durable first, then caches, then the disk.

Entry contents are immutable, so a bounded cache of them never goes stale;
held headers, EAV rows and CRUD states are cached per entity and dropped
whenever a write touches that entity (and again when that write becomes
durable, so a disk read made while it was in flight cannot stay cached).
Link states are read from their indexes each time (a page, a count, the
links to a target: each one index range), merged with the link facts of the
groups not yet durable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .base import (
    ChainRow,
    CrudFact,
    CrudState,
    EavRow,
    LinkFact,
    StorageError,
    link_key_matches,
    merge_crud,
    merge_link,
)
from .memory_store import link_keys

if TYPE_CHECKING:
    from .sqlite_cache import Cache, Group

__all__ = ["SqliteReads"]

GET_CONTENT = """
SELECT content FROM contents WHERE address=?1
UNION ALL SELECT content FROM chain WHERE entry_address=?1 AND content IS NOT NULL
UNION ALL SELECT '{"ChainHeader":' || header || '}' FROM chain WHERE header_address=?1 AND folded & 2
LIMIT 1
"""
_HELD_HEADERS = """
SELECT header_address, header FROM headers WHERE entry_address=?1
UNION ALL SELECT header_address, header FROM chain WHERE entry_address=?1 AND folded & 1
"""
_EAV = "SELECT entity, attribute, value, idx FROM eav WHERE entity=?1 AND attribute>=?2 AND attribute<?3"
_EAV_ANY = "SELECT 1 FROM eav WHERE entity=?1 AND attribute>=?2 AND attribute<?3 LIMIT 1"
# an own record's 'live' is folded into its chain row: one probe of each, whatever the history
_CRUD = """
SELECT rank, link, link_idx FROM crud WHERE address=?1
UNION ALL SELECT 1, NULL, 0 FROM (SELECT 1 FROM chain WHERE entry_address=?1 AND live IS NOT NULL LIMIT 1)
"""
_CHAIN_COLUMNS = "seq, header_address, header, entry_address, entry_type"
_LINK_COLUMNS = "base, link_add, link_type, tag, target, idx, removed_by"
_LINK_WHERE = {  # (type given, tag given) -> selection, which an index orders by (idx, link_add)
    (True, True): "base=? AND link_type=? AND utag=?",
    (True, False): "base=? AND link_type=?",
    (False, True): "base=? AND utag=?",
    (False, False): "base=?",
}
_COUNT_KIND = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}


def _upper_bound(prefix: str) -> str | bytes:
    return prefix + "\U0010ffff" if prefix else b"\xff"  # a blob sorts after all text


class SqliteReads:
    """The read half of :class:`.sqlite.SqliteStore` (which sets these attributes)."""

    label: str
    durable_ticket: int
    _reader: sqlite3.Connection
    _errors: tuple[type[Exception], ...]  # what the connection raises
    _length: int
    _open: Group | None
    _in_flight: Any  # deque[Group]
    _contents: Cache
    _headers_cache: Cache
    _eav_cache: Cache
    _crud_cache: Cache
    _held_counts: tuple[int, tuple[int, int]] | None

    def _groups(self) -> list[Group]:
        """Groups not yet durable, newest first."""
        groups = list(reversed(self._in_flight))
        if self._open is not None:
            groups.insert(0, self._open)
        return groups

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._reader.execute(sql, args).fetchall()
        except self._errors as exc:
            raise StorageError(f"storage of {self.label}: cannot read: {exc}") from None

    # -- the chain ---------------------------------------------------------------------------

    def chain_length(self) -> int:
        return self._length

    def chain_row(self, seq: int) -> ChainRow | None:
        for group in self._groups():
            row = group.tables.chain.get(seq)
            if row is not None:
                return row
        found = self._read(f"SELECT {_CHAIN_COLUMNS} FROM chain WHERE seq=?", (seq,))
        return ChainRow(*found[0]) if found else None

    def chain_seq(self, header_address: str) -> int | None:
        for group in self._groups():
            for row in group.tables.chain.values():
                if row.header_address == header_address:
                    return row.seq
        found = self._read("SELECT seq FROM chain WHERE header_address=?", (header_address,))
        return found[0][0] if found else None

    def chain_rows(self, start: int = 0) -> Iterator[ChainRow]:
        seq = start
        try:
            cursor = self._reader.execute(f"SELECT {_CHAIN_COLUMNS} FROM chain WHERE seq>=? ORDER BY seq", (start,))
            for found in cursor:
                yield ChainRow(*found)
                seq = found[0] + 1
        except self._errors as exc:
            raise StorageError(f"storage of {self.label}: cannot read the chain: {exc}") from None
        end = self._length
        while seq < end:
            row = self.chain_row(seq)
            if row is None:
                break
            yield row
            seq += 1

    def chain_records(self, start: int = 0, end: int | None = None) -> Iterator[tuple[ChainRow, str | None]]:
        """Chain rows with their entries' content, in order, from the disk only (for loading)."""
        args: tuple[Any, ...] = (start,) if end is None else (start, end)
        where = "c.seq>=?" if end is None else "c.seq>=? AND c.seq<?"
        try:
            cursor = self._reader.execute(
                "SELECT c.seq, c.header_address, c.header, c.entry_address, c.entry_type, "
                "COALESCE(c.content, (SELECT content FROM contents WHERE address = c.entry_address)) "
                f"FROM chain AS c WHERE {where} ORDER BY c.seq",
                args,
            )
            for found in cursor:
                row = ChainRow(*found[:5])
                # an entry that is itself one of our header-entries is kept only in chain
                yield row, found[5] if found[5] is not None else self.get_content(row.entry_address)
        except self._errors as exc:
            raise StorageError(f"storage of {self.label}: cannot read the chain: {exc}") from None

    # -- contents, headers, EAV, CRUD --------------------------------------------------------

    def get_content(self, address: str) -> str | None:
        if self._open is not None or self._in_flight:
            for group in self._groups():
                text = group.tables.contents.get(address)
                if text is not None:
                    return text
        text = self._contents.get(address)
        if text is not None:
            return text
        found = self._read(GET_CONTENT, (address,))
        if not found:
            return None
        text = found[0][0]
        self._contents.put(address, text)
        return text

    def held_headers(self, entry_address: str) -> list[str]:
        cached = self._headers_cache.get(entry_address)
        if cached is None:
            cached = self._read(_HELD_HEADERS, (entry_address,))
            self._headers_cache.put(entry_address, cached)
        found = dict(cached)
        if self._open is not None or self._in_flight:
            for group in reversed(self._groups()):
                found.update(group.tables.headers.get(entry_address, {}))
        return list(found.values())

    def eav(self, entity: str, attribute_prefix: str = "") -> list[EavRow]:
        cached = self._eav_cache.get(entity)
        rows = cached.get(attribute_prefix) if cached is not None else None
        if rows is None:
            found = self._read(_EAV, (entity, attribute_prefix, _upper_bound(attribute_prefix)))
            rows = [EavRow(*r) for r in found]
            if cached is None:
                cached = {}
                self._eav_cache.put(entity, cached)
            cached[attribute_prefix] = rows
        if self._open is None and not self._in_flight:
            return list(rows)
        merged = dict.fromkeys(rows)
        for group in reversed(self._groups()):
            for r in group.tables.eav_rows(entity, attribute_prefix):
                merged[r] = None
        return list(merged)

    def eav_any(self, entity: str, attribute_prefix: str = "") -> bool:
        if self._open is not None or self._in_flight:
            for group in self._groups():
                if group.tables.eav_any(entity, attribute_prefix):
                    return True
        cached = self._eav_cache.get(entity)
        if cached is not None and attribute_prefix in cached:
            return bool(cached[attribute_prefix])
        return bool(self._read(_EAV_ANY, (entity, attribute_prefix, _upper_bound(attribute_prefix))))

    def crud(self, address: str) -> CrudState | None:
        state = self._crud_cache.get(address)
        if state is None:
            state = self._disk_crud(address)
            self._crud_cache.put(address, state)
        if self._open is not None or self._in_flight:
            for group in reversed(self._groups()):
                pending = group.tables.crud.get(address)
                if pending is not None:
                    state = _merge_states(state, pending, address)
        return None if state.rank == 0 and state.link is None else state

    def _disk_crud(self, address: str) -> CrudState:
        state = CrudState(0)
        for rank, link, link_index in self._read(_CRUD, (address,)):
            state = _merge_states(state, CrudState(rank, link, link_index), address)
        return state

    def kv_get(self, key: str) -> str | None:
        for group in self._groups():
            value = group.tables.kv.get(key)
            if value is not None:
                return value
        found = self._read("SELECT value FROM kv WHERE key=?", (key,))
        return found[0][0] if found else None

    def held_counts(self) -> tuple[int, int]:
        """Entries and headers held, as committed to disk (recounted only after new commits)."""
        if self._held_counts is None or self._held_counts[0] != self.durable_ticket:
            entries, headers = self._read("SELECT entries, headers FROM held_counts", ())[0]
            self._held_counts = (self.durable_ticket, (entries, headers))
        return self._held_counts[1]

    # -- links ---------------------------------------------------------------------------------

    def _pending_links(self, base: str) -> dict[str, list[LinkFact]]:
        """Link facts of ``base`` not yet durable, per LinkAdd, oldest first."""
        pending: dict[str, list[LinkFact]] = {}
        if self._open is not None or self._in_flight:
            for group in reversed(self._groups()):
                for fact in group.tables.links.get(base, ()):
                    pending.setdefault(fact.link_add, []).append(fact)
        return pending

    def _merged_pending(
        self, base: str, pending: dict[str, list[LinkFact]]
    ) -> dict[str, tuple[LinkFact | None, LinkFact]]:
        """Per pending LinkAdd: (its state on disk, its state with the pending facts)."""
        out = {}
        for link_add, facts in pending.items():
            found = self._read(f"SELECT {_LINK_COLUMNS} FROM links WHERE base=? AND link_add=?", (base, link_add))
            disk = LinkFact(*found[0]) if found else None
            state = disk
            for fact in facts:
                state = merge_link(state, fact)
            assert state is not None
            out[link_add] = (disk, state)
        return out

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
        utag = tag.upper() if tag is not None else None
        where = _LINK_WHERE[(link_type is not None, utag is not None)]
        args: tuple[Any, ...] = (base, *(v for v in (link_type, utag) if v is not None))
        if after_index is not None:
            where += " AND idx>?"
            args += (after_index,)
        order = "DESC" if descending else "ASC"
        sql = f"SELECT {_LINK_COLUMNS} FROM links WHERE {where} ORDER BY idx {order}, link_add {order} LIMIT ? OFFSET ?"
        pending = self._pending_links(base)
        if not pending:
            return [LinkFact(*r) for r in self._read(sql, (*args, -1 if limit is None else limit, offset))]
        # what is pending may move or add states: read enough from disk to fill the page anyway
        fetch = -1 if limit is None else offset + limit + len(pending)
        states = [s for s in (LinkFact(*r) for r in self._read(sql, (*args, fetch, 0))) if s.link_add not in pending]
        for _, state in self._merged_pending(base, pending).values():
            if link_key_matches(state, link_type, utag) and (after_index is None or state.index > after_index):
                states.append(state)
        states.sort(key=lambda s: (s.index, s.link_add), reverse=descending)
        return states[offset:] if limit is None else states[offset : offset + limit]

    def link_count(self, base: str, link_type: str | None, tag: str | None) -> tuple[int, int]:
        utag = tag.upper() if tag is not None else None
        key = (link_type, utag)
        found = self._read(
            "SELECT live, deleted FROM link_counts WHERE base=? AND kind=? AND link_type=? AND utag=?",
            (base, _COUNT_KIND[(link_type is not None, utag is not None)], link_type or "", utag or ""),
        )
        live, deleted = found[0] if found else (0, 0)
        pending = self._pending_links(base)
        for disk, state in self._merged_pending(base, pending).values():
            for s, sign in ((disk, -1), (state, 1)):
                if s is not None and s.target is not None and key in link_keys(s):
                    if s.removed_by is None:
                        live += sign
                    else:
                        deleted += sign
        return live, deleted

    def links_to(self, base: str, target: str) -> list[LinkFact]:
        found = [
            LinkFact(*r)
            for r in self._read(
                f"SELECT {_LINK_COLUMNS} FROM links INDEXED BY links_target WHERE base=? AND target=?", (base, target)
            )
        ]
        pending = self._pending_links(base)
        if not pending:
            return found
        states = {s.link_add: s for s in found}
        for link_add, (_, state) in self._merged_pending(base, pending).items():
            if state.target == target:
                states[link_add] = state
        return list(states.values())


def _merge_states(state: CrudState, other: CrudState, address: str) -> CrudState:
    status = other.status
    merged = merge_crud(state, CrudFact(address, status or "", other.link, other.link_index))
    return merged
