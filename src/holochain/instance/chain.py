"""The source chain: an agent's signed, hash-linked history.

The chain head, the last header of each entry type and the chain length are
kept in memory, so authoring a header never reads the chain; the rows
themselves live in the instance's store.  :meth:`SourceChain.load` rebuilds
that state from the store and verifies the records on the way (addresses,
links, signatures), so a damaged store is refused, never served.

**The verified mark.**  Verifying a record costs ~90 µs (mostly its
Ed25519 signature), 9 s for a chain of 100,000.  So the chain keeps a running
SHA-256 over the exact stored bytes of every record (its seq, header
address, header JSON, entry address, entry type and entry JSON), and writes
to the store, with the records, a *mark*: ``(length, digest)`` signed by the
agent.  At the next start the records under the mark are only re-hashed
(~3 µs each): if their digest is the one the agent signed, they are
byte-for-byte the records that were verified (or authored) before, so every
check that held then holds now.  Records past the mark are verified fully.
A mark that does not verify, or a digest that does not match, is ignored
and the whole chain is verified as before, so any damage is still found and
named.  Forging a mark needs the agent's key, the key that forging a record
needs anyway.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import orjson

from ..core import json as cjson
from ..core.crypto import AgentKey, PublicKeyError, verify
from ..core.entry import Entry, EntryShapeError
from ..core.header import ChainHeader
from ..core.progress import Progress
from ..core.time import Clock, format_ns, parse_iso8601_ns, system_clock
from ..storage.base import ChainRow, StorageError, Store, WriteBatch

__all__ = ["SourceChain", "ChainRecord", "VERIFIED_MARK_KEY"]

log = logging.getLogger(__name__)

VERIFIED_MARK_KEY = "chain-verified"
_MARK_EVERY = 4096  # records authored between two marks written along with a commit
_MARK_TEXT = "holochain-py verified chain v1:{length}:{digest}"


def _record_bytes(row: ChainRow, content: str) -> bytes:
    """What the digest covers of one record (a JSON array: self-delimiting, so the stream is unambiguous)."""
    return orjson.dumps([row.seq, row.header_address, row.header, row.entry_address, row.entry_type, content])


class ChainRecord:
    """A header with its entry, as read back from the chain."""

    __slots__ = ("seq", "header", "entry")

    def __init__(self, seq: int, header: ChainHeader, entry: Entry | None) -> None:
        self.seq = seq
        self.header = header
        self.entry = entry


class SourceChain:
    """This agent's source chain: the append-only, hash-linked records of everything it authored,
    read from and appended to its store.  It is verified when loaded (or trusted up to a stored
    mark) and keeps what calls read often: the head, the last header of each type, the agent
    entries, the grants and claims."""

    def __init__(self, store: Store, agent: AgentKey, label: str, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock  # what new headers are stamped with
        self.agent = agent
        self.label = label
        self.length = 0
        self.appended = 0  # records this process added (commits, genesis included)
        self.head: ChainHeader | None = None
        self.head_ns = 0
        self.last_of_type: dict[str, str] = {}  # entry type name -> header address
        self.agent_entries: list[str] = []  # AgentId entry addresses, oldest first
        self.grants: dict[str, dict[str, Any]] = {}  # token (grant address) -> grant JSON
        self.claims: list[tuple[str, dict[str, Any]]] = []
        self._digest = hashlib.sha256()  # over every record so far (see the module docstring)
        self._marked = 0  # length the stored mark covers
        self._stamp: tuple[str, int] = ("", 0)  # the last timestamp we wrote, and its ns

    # -- loading ---------------------------------------------------------------

    def load(self, verify_signatures: bool = True) -> int:
        """Rebuild the in-memory state from the store, verifying what the mark does not cover.

        Returns the number of records.  Raises :class:`StorageError` naming the
        first damaged record.
        """
        mark = self._read_mark()
        if mark is not None:
            if self._load_marked(*mark):
                log.info("%s: %d records under the verified mark re-hashed", self.label, mark[0])
            else:
                log.warning("%s: the chain does not match its verified mark; verifying every record", self.label)
                self._reset()
        previous = self.head
        count = self.length
        with Progress(f"{self.label}: verifying the chain", self.store.chain_length(), unit="records") as progress:
            progress.advance(count)
            for row, content in self.store.chain_records(count):
                if row.seq != count:
                    raise self._damage(row.seq, f"missing record {count}")
                header = self._check_row(row, previous, verify_signatures)
                entry = self._load_entry(row, header, content)
                self._advance(header, entry, row.entry_type)
                self._digest.update(_record_bytes(row, content))  # type: ignore[arg-type]
                previous = header
                count += 1
                progress.advance()
        if count < self.store.chain_length():
            raise self._damage(count, "missing record")
        self.length = count
        if verify_signatures:
            self.write_mark()
        return count

    def _reset(self) -> None:
        self.length = 0
        self.head = None
        self.head_ns = 0
        self.last_of_type.clear()
        self.agent_entries.clear()
        self.grants.clear()
        self.claims.clear()
        self._digest = hashlib.sha256()
        self._marked = 0

    def _read_mark(self) -> tuple[int, str] | None:
        """``(length, digest)`` of the stored mark, if the agent's signature over it verifies."""
        text = self.store.kv_get(VERIFIED_MARK_KEY)
        if text is None:
            return None
        try:
            mark = cjson.loads(text)
            length, digest, signature = mark["length"], mark["digest"], mark["signature"]
            if not (isinstance(length, int) and isinstance(digest, str) and isinstance(signature, str)):
                raise TypeError("mark fields")
            ok = verify(self.agent.address, signature, _MARK_TEXT.format(length=length, digest=digest))
        except (cjson.JSONDecodeError, KeyError, TypeError, PublicKeyError) as exc:
            log.warning("%s: ignoring an unreadable verified mark (%s)", self.label, exc)
            return None
        if not ok:
            log.warning("%s: ignoring a verified mark whose signature does not verify", self.label)
            return None
        if length > self.store.chain_length():
            log.warning("%s: ignoring a verified mark past the end of the chain", self.label)
            return None
        return length, digest

    def _load_marked(self, length: int, digest: str) -> bool:
        """Re-hash records ``0..length-1`` and rebuild the state from them; True if they match the mark."""
        last: ChainRow | None = None
        expected = 0
        progress = Progress(f"{self.label}: re-hashing the verified chain", length, unit="records")
        for row, content in self.store.chain_records(0, length):
            progress.advance()
            if row.seq != expected or content is None:
                return False
            self._digest.update(_record_bytes(row, content))
            self.last_of_type[row.entry_type] = row.header_address
            kind = row.entry_type
            if kind == "%agent_id":
                self.agent_entries.append(row.entry_address)
            elif kind == "%cap_token_grant" or kind == "%cap_token_claim":
                try:
                    value = cjson.loads(content)
                except cjson.JSONDecodeError:
                    return False
                if not isinstance(value, dict) or len(value) != 1:
                    return False
                body: Any = value.get("CapTokenGrant" if kind == "%cap_token_grant" else "CapTokenClaim")
                if kind == "%cap_token_grant":
                    self.grants[row.entry_address] = body
                else:
                    self.claims.append((row.entry_address, body))
            last = row
            expected += 1
        progress.finish()
        if expected != length or self._digest.hexdigest() != digest or last is None:
            return False
        try:
            self.head = ChainHeader.from_json(cjson.loads(last.header))
        except (cjson.JSONDecodeError, EntryShapeError):
            return False
        self.head_ns = parse_iso8601_ns(self.head.timestamp)
        self.length = self._marked = length
        return True

    def write_mark(self, batch: WriteBatch | None = None) -> None:
        """Sign and store the mark for the chain as it is now (in ``batch``, or a write of its own),
        unless the stored mark already covers it."""
        if self.length <= self._marked:
            return
        digest = self._digest.hexdigest()
        signature = self.agent.sign(_MARK_TEXT.format(length=self.length, digest=digest))
        text = cjson.dumps({"length": self.length, "digest": digest, "signature": signature})
        if batch is None:
            self.store.write(WriteBatch(kv={VERIFIED_MARK_KEY: text}))
        else:
            batch.kv[VERIFIED_MARK_KEY] = text
        self._marked = self.length

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

    def _load_entry(self, row: ChainRow, header: ChainHeader, text: str | None) -> Entry:
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
        stamp = self._stamp
        self.head_ns = stamp[1] if header.timestamp == stamp[0] else parse_iso8601_ns(header.timestamp)
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
        ns = self.clock()
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
        stamp = format_ns(ts)
        self._stamp = (stamp, ts)  # so appending it need not parse the text back
        return ChainHeader(
            entry.entry_type,
            entry.address,
            [[self.agent.address, signature]],
            self.head.address if self.head is not None else None,
            self.last_of_type.get(entry.type_name),
            link_update_delete,
            stamp,
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
        row = ChainRow(seq, header.address, header.content, entry.address, entry.type_name)
        content = entry.content if entry.variant != "ChainHeader" else cjson.dumps(entry.value)
        batch.chain.append(row)
        batch.contents[entry.address] = content
        self._advance(header, entry, entry.type_name)
        self._digest.update(_record_bytes(row, content))
        self.length = seq + 1
        self.appended += 1
        if self.length - self._marked >= _MARK_EVERY:
            self.write_mark(batch)
        return seq

    # -- reading -------------------------------------------------------------------

    def seq_of(self, header_address: str) -> int | None:
        """The position of a header of this chain, or None."""
        return self.store.chain_seq(header_address)

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
