"""The source chain: an agent's signed, hash-linked history.

The chain head, the last header of each entry type and the chain length are
kept in memory, so authoring a header never reads the chain; the rows
themselves live in the instance's store.  :meth:`SourceChain.load` rebuilds
that state from the store and verifies every record on the way (addresses,
links, signatures), so a damaged store is refused, never served.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..core import json as cjson
from ..core.crypto import AgentKey, PublicKeyError, verify
from ..core.entry import Entry, EntryShapeError
from ..core.header import ChainHeader
from ..core.time import format_ns, now_ns, parse_iso8601_ns
from ..storage.base import ChainRow, StorageError, Store, WriteBatch

__all__ = ["SourceChain", "ChainRecord"]


class ChainRecord:
    """A header with its entry, as read back from the chain."""

    __slots__ = ("seq", "header", "entry")

    def __init__(self, seq: int, header: ChainHeader, entry: Entry | None) -> None:
        self.seq = seq
        self.header = header
        self.entry = entry


class SourceChain:
    def __init__(self, store: Store, agent: AgentKey, label: str) -> None:
        self.store = store
        self.agent = agent
        self.label = label
        self.length = 0
        self.head: ChainHeader | None = None
        self.head_ns = 0
        self.last_of_type: dict[str, str] = {}  # entry type name -> header address
        self.agent_entries: list[str] = []  # AgentId entry addresses, oldest first
        self.grants: dict[str, dict[str, Any]] = {}  # token (grant address) -> grant JSON
        self.claims: list[tuple[str, dict[str, Any]]] = []
        self.seq_by_header: dict[str, int] = {}  # header address -> position in the chain

    # -- loading ---------------------------------------------------------------

    def load(self, verify_signatures: bool = True) -> int:
        """Rebuild the in-memory state from the store, verifying each record.

        Returns the number of records.  Raises :class:`StorageError` naming the
        first damaged record.
        """
        previous: ChainHeader | None = None
        count = 0
        for row in self.store.chain_rows(0):
            if row.seq != count:
                raise self._damage(row.seq, f"missing record {count}")
            header = self._check_row(row, previous, verify_signatures)
            entry = self._load_entry(row, header)
            self._advance(header, entry, row.entry_type)
            self.seq_by_header[header.address] = row.seq
            previous = header
            count += 1
        self.length = count
        return count

    def _damage(self, seq: int, what: str) -> StorageError:
        return StorageError(f"source chain of {self.label} is damaged at record {seq}: {what}")

    def _check_row(self, row: ChainRow, previous: ChainHeader | None, verify_signatures: bool) -> ChainHeader:
        try:
            header = ChainHeader.from_json(cjson.loads(row.header))
        except (cjson.JSONDecodeError, EntryShapeError) as exc:
            raise self._damage(row.seq, f"unreadable header ({exc})") from None
        if header.address != row.header_address:
            raise self._damage(row.seq, "header does not hash to its recorded address")
        expected_link = previous.address if previous is not None else None
        if header.link != expected_link:
            raise self._damage(row.seq, "header does not link to the previous header")
        if header.link_same_type != self.last_of_type.get(row.entry_type):
            raise self._damage(row.seq, "header's same-type link is wrong")
        if header.entry_address != row.entry_address:
            raise self._damage(row.seq, "header names another entry")
        if not header.provenances or header.author != self.agent.address:
            raise self._damage(row.seq, "header is not signed by this agent")
        if verify_signatures:
            source, signature = header.provenances[-1]
            try:
                ok = verify(source, signature, header.entry_address)
            except PublicKeyError:
                ok = False
            if not ok:
                raise self._damage(row.seq, "signature does not verify")
        return header

    def _load_entry(self, row: ChainRow, header: ChainHeader) -> Entry:
        text = self.store.get_content(row.entry_address)
        if text is None:
            raise self._damage(row.seq, f"entry {row.entry_address} is missing")
        try:
            entry = Entry.from_json(cjson.loads(text))
        except (cjson.JSONDecodeError, EntryShapeError) as exc:
            raise self._damage(row.seq, f"unreadable entry ({exc})") from None
        if entry.address != row.entry_address:
            raise self._damage(row.seq, "entry does not hash to its address")
        return entry

    def _advance(self, header: ChainHeader, entry: Entry, type_name: str) -> None:
        self.head = header
        self.head_ns = parse_iso8601_ns(header.timestamp)
        self.last_of_type[type_name] = header.address
        variant = entry.variant
        if variant == "AgentId":
            self.agent_entries.append(entry.address)
        elif variant == "CapTokenGrant":
            self.grants[entry.address] = entry.value["CapTokenGrant"]
        elif variant == "CapTokenClaim":
            self.claims.append((entry.address, entry.value["CapTokenClaim"]))

    # -- authoring ---------------------------------------------------------------

    def next_timestamp_ns(self) -> int:
        """Now, but always after the head, so headers order by time too."""
        ns = now_ns()
        return ns if ns > self.head_ns else self.head_ns + 1

    def new_header(
        self,
        entry: Entry,
        link_update_delete: str | None = None,
        signature: str | None = None,
        timestamp_ns: int | None = None,
    ) -> ChainHeader:
        """A header for ``entry`` on top of the current head, signed by the agent."""
        if signature is None:
            signature = self.agent.sign(entry.address)
        ts = timestamp_ns if timestamp_ns is not None and timestamp_ns > self.head_ns else self.next_timestamp_ns()
        return ChainHeader(
            entry.entry_type,
            entry.address,
            [[self.agent.address, signature]],
            self.head.address if self.head is not None else None,
            self.last_of_type.get(entry.type_name),
            link_update_delete,
            format_ns(ts),
        )

    def fits_head(self, header: ChainHeader) -> bool:
        """True if ``header`` still links to the current head (nothing committed since)."""
        head = self.head.address if self.head is not None else None
        return header.link == head

    def append(self, header: ChainHeader, entry: Entry, batch: WriteBatch) -> int:
        """Add a record to the chain (in memory and in ``batch``); returns its seq."""
        if not self.fits_head(header):
            raise RuntimeError("header does not extend the chain head")
        seq = self.length
        batch.chain.append(ChainRow(seq, header.address, header.content, entry.address, entry.type_name))
        batch.contents[entry.address] = cjson.dumps(entry.value)
        self._advance(header, entry, entry.type_name)
        self.seq_by_header[header.address] = seq
        self.length = seq + 1
        return seq

    # -- reading -------------------------------------------------------------------

    def record(self, seq: int, with_entry: bool = True) -> ChainRecord | None:
        row = self.store.chain_row(seq)
        if row is None:
            return None
        header = ChainHeader.from_json(cjson.loads(row.header))
        entry = None
        if with_entry:
            text = self.store.get_content(row.entry_address)
            entry = Entry(cjson.loads(text)) if text is not None else None
        return ChainRecord(seq, header, entry)

    def records_desc(self, with_entries: bool = True) -> Iterator[ChainRecord]:
        """Records newest first (as holochain-rust iterates a chain)."""
        for seq in range(self.length - 1, -1, -1):
            record = self.record(seq, with_entries)
            if record is not None:
                yield record

    def records_asc(self, start: int = 0, end: int | None = None) -> Iterator[ChainRecord]:
        """Records oldest first, from ``start`` up to (not including) ``end``."""
        for seq in range(start, self.length if end is None else min(end, self.length)):
            record = self.record(seq)
            if record is not None:
                yield record

    @property
    def agent_address(self) -> str:
        return self.agent_entries[-1] if self.agent_entries else self.agent.address
