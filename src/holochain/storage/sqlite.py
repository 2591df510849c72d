"""SQLite storage: the embedded default for everything persistent.

One database file per instance (``<path>/instance.sqlite3``), WAL journal.

**Group commit, one statement per transaction, in a writer process.**
:meth:`SqliteStore.write` adds the batch to the *open group* (an in-memory
overlay, so reads see it at once) and returns a ticket.  At the end of the
event loop's tick the open group is turned into one JSON text and sent to the
conductor's writer process (:mod:`.writer_process`), which writes every row
of it with *one* SQL statement (an ``INSERT`` into a temporary view whose
trigger fans the group's JSON out into the tables) in autocommit mode: the
inserts, the commit and its fsync run inside one ``sqlite3_step``.  The
writer answers with a line on the store's socket, which the event loop reads
when it polls its sockets anyway.  A process and not a thread, because a
thread needs the GIL to start and to finish every statement, and each of
those hand-overs stopped the event loop (see the writer's docstring).  While
a group is being written, new writes collect in the next open group; the loop
sends it as soon as the previous one is durable.  Replies wait only for their
own ticket: a busy conductor pays one fsync per group of calls, not one per
call, without giving up durability.  Checkpoints (copying the WAL back into
the database file) run in a thread of the writer process, so no commit waits
behind one.

``synchronous="full"`` (the default) fsyncs every commit: a reply sent means
the data survives power loss.  ``"normal"`` skips the fsync of WAL commits:
faster, and still safe against a crash of the conductor process, but the
last commits before a power failure or kernel crash can be lost.

**Layout (schema 2).**  Most writes are an agent's own records, and a record
arrives as one chain row plus rows that only repeat it (its entry's content,
its header held for its entry, the entry's ``live`` status, its header as a
header-entry).  Those are folded into the chain row (``content``, ``folded``,
``live``) and read back from it, so a commit costs one row and two small index
inserts instead of five rows in five random-keyed B-trees: the writer does
half the work, and the work grows less with the chain.  Rows that are not
folded go to ``contents``, ``headers`` (rowid tables: appended, only their
address indexes take random inserts), ``eav`` and ``kv``.  Held counts are
kept in a one-row table by the same statement.  Schema 1 files are migrated
in place when opened, in one transaction.

**Reads** look in the open and in-flight groups first, then in small caches
(entry contents are immutable, so a bounded cache of them never goes stale;
held headers and EAV rows are cached per entity and dropped whenever a write
touches that entity), then in the database.

A write that fails (disk full, I/O error), or a writer process that dies,
fails every pending and later ticket: the store turns read-only-and-broken
rather than letting the chain advance in memory past what is on disk.
Restarting reloads exactly the groups that were committed.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import logging
import os
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..core.private_files import private_dir, private_file
from . import encryption, writer_process
from .base import ChainRow, EavRow, StorageError, WriteBatch
from .memory import Tables

__all__ = ["SqliteStore", "SCHEMA_VERSION", "DB_FILENAME", "WriterStats", "writer_process_pid"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
DB_FILENAME = "instance.sqlite3"

_SCHEMA = """
CREATE TABLE chain (
    seq INTEGER PRIMARY KEY,
    header_address TEXT NOT NULL UNIQUE,
    header TEXT NOT NULL,
    entry_address TEXT NOT NULL,
    entry_type TEXT NOT NULL,
    content TEXT,           -- the entry's JSON, when it was written with this record (else in contents)
    folded INTEGER NOT NULL,  -- rows written with this record and folded in: 1 its header held for its
                              -- entry, 2 its header-entry ({"ChainHeader": header} at header_address)
    live INTEGER            -- index of a crud-status 'live' row of the entry folded in here, else NULL
);
CREATE INDEX chain_entry ON chain (entry_address);
CREATE TABLE contents (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL
);
CREATE TABLE headers (
    id INTEGER PRIMARY KEY,
    entry_address TEXT NOT NULL,
    header_address TEXT NOT NULL,
    header TEXT NOT NULL,
    UNIQUE (entry_address, header_address)
);
CREATE TABLE eav (
    entity TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (entity, attribute, value, idx)
) WITHOUT ROWID;
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE held_counts (  -- entries and headers held (InstanceStats asks twice a second)
    id INTEGER PRIMARY KEY CHECK (id = 0),
    entries INTEGER NOT NULL,
    headers INTEGER NOT NULL
);
"""
_COUNT_HELD = """
INSERT OR REPLACE INTO held_counts VALUES (0,
    (SELECT COUNT(*) FROM (SELECT entry_address FROM headers UNION SELECT entry_address FROM chain WHERE folded & 1)),
    (SELECT COUNT(*) FROM headers) + (SELECT COUNT(*) FROM chain WHERE folded & 1));
"""

# Schema 1 -> 2: chain rows take the held header of their entry; header-entries of our own
# records are no longer stored apart (they are derived from chain); rowid tables.
_MIGRATE_FROM_1 = (
    """
ALTER TABLE chain RENAME TO chain_v1;
ALTER TABLE contents RENAME TO contents_v1;
ALTER TABLE headers RENAME TO headers_v1;
"""
    + _SCHEMA.split("CREATE TABLE eav")[0]
    + """
INSERT INTO chain (seq, header_address, header, entry_address, entry_type, content, folded, live)
    SELECT c.seq, c.header_address, c.header, c.entry_address, c.entry_type, NULL,
           EXISTS (SELECT 1 FROM headers_v1 AS h WHERE h.entry_address = c.entry_address
                   AND h.header_address = c.header_address AND h.header = c.header)
           | 2 * EXISTS (SELECT 1 FROM contents_v1 AS e WHERE e.address = c.header_address
                         AND e.content = '{"ChainHeader":' || c.header || '}'), NULL
    FROM chain_v1 AS c;
INSERT INTO contents (address, content)
    SELECT address, content FROM contents_v1 AS c WHERE NOT EXISTS (
        SELECT 1 FROM chain WHERE chain.header_address = c.address AND chain.folded & 2);
INSERT INTO headers (entry_address, header_address, header)
    SELECT entry_address, header_address, header FROM headers_v1 AS h WHERE NOT EXISTS (
        SELECT 1 FROM chain WHERE chain.header_address = h.header_address AND chain.folded & 1
                              AND chain.entry_address = h.entry_address);
DROP TABLE chain_v1;
DROP TABLE contents_v1;
DROP TABLE headers_v1;
CREATE TABLE held_counts (id INTEGER PRIMARY KEY CHECK (id = 0), entries INTEGER NOT NULL, headers INTEGER NOT NULL);
"""
    + _COUNT_HELD
    + """
PRAGMA user_version = 2;
"""
)

_LIVE = ("crud-status", "live")


def _payload(batches: list[WriteBatch]) -> bytes:
    """A group's batches as the JSON the writer's trigger takes:
    ``[batches, entries held by the group, (entry, header) pairs held by the group]``, each
    batch as ``[chain rows, contents, held headers, EAV rows, kv]``, with what
    only repeats a chain row of the batch folded into that row: ``[seq, header address, header,
    entry address, entry type, entry content or null, folded (1: its header held for its
    entry, 2: its header-entry), live index or null]``.  The entries and pairs let the
    trigger keep the held counts with an index probe or two each."""
    out = []
    entries: dict[str, None] = {}
    pairs: dict[tuple[str, str], None] = {}
    for b in batches:
        contents, headers, eav = b.contents, b.headers, b.eav
        chain = []
        if b.chain:
            contents, headers, eav = dict(contents), list(headers), list(eav)
            folded_contents = set()
            for r in b.chain:
                content = contents.get(r.entry_address)
                if content is not None:
                    folded_contents.add(r.entry_address)
                folded = 0
                held = (r.entry_address, r.header_address, r.header)
                if held in headers:
                    headers.remove(held)
                    folded = 1
                    entries[r.entry_address] = None
                    pairs[(r.entry_address, r.header_address)] = None
                if contents.get(r.header_address) == '{"ChainHeader":' + r.header + "}":
                    folded_contents.add(r.header_address)
                    folded |= 2
                live = None
                for i, row in enumerate(eav):
                    if row.entity == r.entry_address and row.attribute == "crud-status" and row.value == "live":
                        live = row.index
                        del eav[i]
                        break
                chain.append((r.seq, r.header_address, r.header, r.entry_address, r.entry_type, content, folded, live))
            for address in folded_contents:
                del contents[address]
        for entry_address, header_address, _ in headers:
            entries[entry_address] = None
            pairs[(entry_address, header_address)] = None
        out.append((chain, contents, headers, [(r.entity, r.attribute, r.value, r.index) for r in eav], b.kv))
    return orjson.dumps((out, list(entries), list(pairs)))


_GET_CONTENT = """
SELECT content FROM contents WHERE address=?1
UNION ALL SELECT content FROM chain WHERE entry_address=?1 AND content IS NOT NULL
UNION ALL SELECT '{"ChainHeader":' || header || '}' FROM chain WHERE header_address=?1 AND folded & 2
LIMIT 1
"""
_HELD_HEADERS = """
SELECT header_address, header FROM headers WHERE entry_address=?1
UNION ALL SELECT header_address, header FROM chain WHERE entry_address=?1 AND folded & 1
"""
_EAV = """
SELECT entity, attribute, value, idx FROM eav WHERE entity=?1 AND attribute>=?2 AND attribute<?3
UNION ALL SELECT entry_address, 'crud-status', 'live', live FROM chain
    WHERE entry_address=?1 AND live IS NOT NULL AND 'crud-status'>=?2 AND 'crud-status'<?3
"""
_CHAIN_COLUMNS = "seq, header_address, header, entry_address, entry_type"

_CONTENT_CACHE_BYTES = 8 * 1024 * 1024
_ENTITY_CACHE_ITEMS = 4096

_LOCK_FILENAME = DB_FILENAME + ".lock"
_LOCK_WAIT_S = 5.0  # a writer of a killed predecessor finishing its last group takes milliseconds
_OPEN_TIMEOUT_S = 30.0


class WriterStats:
    """What the writer did for this store, for the benchmark: transactions, batches, its CPU time."""

    __slots__ = ("transactions", "batches", "cpu_s", "wall_s")

    def __init__(self) -> None:
        self.transactions = 0
        self.batches = 0
        self.cpu_s = 0.0
        self.wall_s = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "batches": self.batches,
            "cpu_s": round(self.cpu_s, 4),
            "wall_s": round(self.wall_s, 4),
        }


def _take_lock(path: Path, label: str) -> int:
    """Hold the store's lock file: one conductor (and its writer) per store at a time."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise StorageError(
                    f"storage of {label} at {path.parent} is in use by another conductor "
                    f"(its lock file {path.name} stayed locked for {_LOCK_WAIT_S:g}s)"
                ) from None
            time.sleep(0.01)


class _Writers:
    """The writer process of this conductor (see :mod:`.writer_process`), started with the first store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def _start(self) -> socket.socket:
        if self._proc is not None and self._proc.poll() is None and self._control is not None:
            return self._control
        if self._control is not None:
            self._control.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "holochain.storage.writer_process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._control = ours
        return ours

    def open_channel(
        self, path: str, synchronous: str, label: str, lock_fd: int, key: str | None = None
    ) -> socket.socket:
        """A socket to a writer thread for the database at ``path``, once it has opened it
        (an encrypted store's key goes with the request, over the socket pair only)."""
        request = orjson.dumps({"path": path, "synchronous": synchronous, "label": label, "key": key})
        with self._lock:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                try:
                    socket.send_fds(self._start(), [request], [theirs.fileno(), lock_fd])
                except OSError:  # the process died since: once more, with a new one
                    self._proc = None
                    socket.send_fds(self._start(), [request], [theirs.fileno(), lock_fd])
            except OSError as exc:
                ours.close()
                raise StorageError(f"storage of {label}: cannot start the writer process: {exc}") from None
            finally:
                theirs.close()
        ours.settimeout(_OPEN_TIMEOUT_S)
        answer = b""
        try:
            while not answer.endswith(b"\n"):
                chunk = ours.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except OSError as exc:
            ours.close()
            raise StorageError(f"storage of {label}: the writer process did not answer: {exc}") from None
        ours.settimeout(None)
        reply = orjson.loads(answer) if answer.endswith(b"\n") else {"error": "the writer process is gone"}
        if not reply.get("ok"):
            ours.close()
            raise StorageError(f"storage of {label} at {path}: {reply.get('error')}")
        return ours


_writers = _Writers()


def writer_process_pid() -> int | None:
    """The pid of this conductor's SQLite writer process, if it runs (for benchmarks and tests)."""
    proc = _writers._proc
    return proc.pid if proc is not None and proc.poll() is None else None


class _Group:
    """Batches written in one transaction, and their overlay for reads until they are durable."""

    __slots__ = ("tables", "batches", "last_ticket")

    def __init__(self) -> None:
        self.tables = Tables()
        self.batches: list[WriteBatch] = []
        self.last_ticket = 0


class _Cache:
    """A mapping bounded in items or in the characters of its values; the oldest insertions go first."""

    __slots__ = ("items", "limit", "size", "by_size")

    def __init__(self, limit: int, *, by_size: bool) -> None:
        self.items: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self.limit = limit
        self.size = 0
        self.by_size = by_size

    def get(self, key: Any) -> Any:
        return self.items.get(key)

    def put(self, key: Any, value: Any) -> None:
        items = self.items
        if key in items:
            return
        cost = len(value) if self.by_size else 1
        if cost > self.limit:
            return
        items[key] = value
        self.size += cost
        while self.size > self.limit:
            _, old = items.popitem(last=False)
            self.size -= len(old) if self.by_size else 1

    def drop(self, key: Any) -> None:
        value = self.items.pop(key, None)
        if value is not None:
            self.size -= len(value) if self.by_size else 1


class SqliteStore:
    """A store in one SQLite file per instance: reads in this process, writes in groups through the
    conductor's writer process, durable (and their tickets completed) once the group commits."""

    def __init__(
        self, directory: str | Path, *, synchronous: str = "full", label: str = "", key: str | None = None
    ) -> None:
        """``key`` (64 hex digits) encrypts the store with SQLCipher (see :mod:`.encryption`)."""
        if synchronous not in ("full", "normal"):
            raise ValueError("synchronous must be 'full' or 'normal'")
        self.directory = Path(directory)
        self.label = label or str(self.directory)
        private_dir(self.directory, tighten=True)  # private entries: 0600 files in a 0700 directory
        self.path = private_file(self.directory / DB_FILENAME)
        self._synchronous = synchronous.upper()
        self._errors = encryption.check_can_open(self.path, key, self.label)
        self._lock_fd = _take_lock(private_file(self.directory / _LOCK_FILENAME), self.label)
        try:
            try:
                self._reader = writer_process.connect(str(self.path), self._synchronous, key)
                self._init_schema()
            except self._errors as exc:
                raise encryption.open_error(self.label, self.path, key, exc) from None
            self._channel = _writers.open_channel(str(self.path), self._synchronous, self.label, self._lock_fd, key)
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._length = self._read_length()
        self._next_ticket = 0
        self.durable_ticket = 0
        self._durable_upto = 0  # acknowledged by the writer
        self._acks = b""  # the writer's answers read but not yet whole
        self._closed_channel = False
        self._held_counts: tuple[int, tuple[int, int]] | None = None  # (durable ticket, counts)
        self._failed: BaseException | None = None
        self._waiters: dict[int, list[tuple[asyncio.Future[Any], Any]]] = {}
        self._open: _Group | None = None  # collecting writes, not yet handed to the writer
        self._in_flight: collections.deque[_Group] = collections.deque()  # handed over, not yet durable
        self._hand_off_scheduled = False
        self._contents = _Cache(_CONTENT_CACHE_BYTES, by_size=True)
        self._headers_cache = _Cache(_ENTITY_CACHE_ITEMS, by_size=False)  # entry -> [(address, header)]
        self._eav_cache = _Cache(_ENTITY_CACHE_ITEMS, by_size=False)  # entity -> {prefix: rows}
        self.stats = WriterStats()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watched: asyncio.AbstractEventLoop | None = None  # the loop that reads our acknowledgements

    # -- connections -------------------------------------------------------------

    def _init_schema(self) -> None:
        version = self._reader.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and self._reader.execute("SELECT 1 FROM sqlite_master WHERE name='chain'").fetchone():
            version = 1  # schema 1 created its tables before it set its version
        if version == 0:
            self._reader.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} {_COUNT_HELD} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        elif version == 1:
            log.info("storage of %s: migrating from schema 1 to %d", self.label, SCHEMA_VERSION)
            try:
                self._reader.executescript(f"BEGIN IMMEDIATE; {_MIGRATE_FROM_1} COMMIT;")
            except self._errors:
                if self._reader.in_transaction:
                    self._reader.execute("ROLLBACK")
                raise
        elif version != SCHEMA_VERSION:
            raise StorageError(
                f"storage of {self.label} at {self.path} has schema version {version}; this conductor "
                f"understands versions 1 and {SCHEMA_VERSION} (a newer conductor wrote it?)"
            )
        result = self._reader.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise StorageError(f"storage of {self.label} at {self.path} is damaged: {result}")
        try:
            self._reader.execute("SELECT json_extract('[1]', '$[0]')").fetchone()
        except self._errors:
            raise StorageError(
                f"storage of {self.label}: this SQLite ({sqlite3.sqlite_version}) lacks the "
                "JSON functions the store needs (SQLite 3.38+, or an older one built with JSON1)"
            ) from None

    def _read_length(self) -> int:
        row = self._reader.execute("SELECT MAX(seq) FROM chain").fetchone()
        return 0 if row[0] is None else row[0] + 1

    # -- writing -------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> int:
        if self._failed is not None:
            raise StorageError(f"storage of {self.label} failed earlier: {self._failed}")
        if self._closing:  # the writer is told to stop: a write now would never reach the disk
            raise StorageError(f"storage of {self.label} is closed")
        loop = self._loop
        if loop is None:
            try:
                loop = self._loop = asyncio.get_running_loop()
            except RuntimeError:
                pass
        group = self._open
        if group is None:
            group = self._open = _Group()
        group.tables.apply(batch)
        group.batches.append(batch)
        if batch.chain:
            self._length = max(self._length, batch.chain[-1].seq + 1)
        self._forget_cached(batch)
        self._next_ticket += 1
        group.last_ticket = self._next_ticket
        if loop is None or loop.is_closed():
            self._read_acks(block=False)  # no event loop to tell us: catch up here
            self._hand_off(True)  # and every write is its own transaction
        elif not self._in_flight and not self._hand_off_scheduled:
            # hand the group over at the end of this tick, so writes of one tick share it
            self._hand_off_scheduled = True
            loop.call_soon(self._scheduled_hand_off)
        return self._next_ticket

    def _forget_cached(self, batch: WriteBatch) -> None:
        for entry_address, _, _ in batch.headers:
            self._headers_cache.drop(entry_address)
        for row in batch.eav:
            self._eav_cache.drop(row.entity)

    def _scheduled_hand_off(self) -> None:
        self._hand_off_scheduled = False
        self._hand_off()

    def _hand_off(self, always: bool = False) -> None:
        """Send the open group to the writer, if it has nothing in hand (or ``always``)."""
        group = self._open
        if group is None or self._failed is not None or (self._in_flight and not always):
            return
        self._open = None
        self._in_flight.append(group)
        self._watch()
        data = _payload(group.batches)
        try:
            self._send(writer_process.HEADER.pack(len(data), group.last_ticket) + data)
        except OSError as exc:
            self._fail(StorageError(f"the writer process is gone ({exc})"))

    def _send(self, data: bytes) -> None:
        """All of ``data`` to the writer.  The socket is non-blocking once the loop polls it (libuv
        makes it so); waiting here is short: the writer has nothing else in hand and reads at once."""
        view = memoryview(data)
        channel = self._channel
        while view:
            try:
                view = view[channel.send(view) :]
            except BlockingIOError:
                if not select.select([], [channel], [], _OPEN_TIMEOUT_S)[1]:
                    raise OSError(f"the writer process took nothing for {_OPEN_TIMEOUT_S:g}s") from None

    def _watch(self) -> None:
        """Have the running event loop read the writer's answers as they come."""
        loop = self._loop
        if loop is None or loop is self._watched or loop.is_closed():
            return
        if self._watched is not None and not self._watched.is_closed():
            self._watched.remove_reader(self._channel.fileno())
        loop.add_reader(self._channel.fileno(), self._read_acks)
        self._watched = loop

    def _unwatch(self) -> None:
        if self._watched is not None and not self._watched.is_closed():
            self._watched.remove_reader(self._channel.fileno())
        self._watched = None

    def wait_durable(self, ticket: int, result: Any = None) -> asyncio.Future[Any] | None:
        if ticket <= self.durable_ticket:
            return None
        if self._failed is not None:
            raise StorageError(f"storage of {self.label} failed: {self._failed}")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._waiters.setdefault(ticket, []).append((fut, result))
        return fut

    def flush(self, timeout: float = 30.0) -> None:
        """Block until everything written so far is durable (used at shutdown)."""
        self._hand_off(True)
        deadline = time.monotonic() + timeout
        while self._in_flight and self._failed is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StorageError(f"storage of {self.label} did not flush within {timeout}s")
            self._read_acks(block=True, timeout=remaining)
        if self._failed is not None:
            raise StorageError(f"storage of {self.label} failed: {self._failed}")

    def _read_acks(self, block: bool = False, timeout: float | None = None) -> list[dict[str, Any]] | None:
        """Take in what the writer answered; deliver what became durable.  Returns its other
        answers, or None once the writer's end is closed."""
        channel = self._channel
        chunk: bytes | None = None
        try:
            if not block:
                chunk = channel.recv(65536, socket.MSG_DONTWAIT)
            elif select.select([channel], [], [], timeout)[0]:
                chunk = channel.recv(65536)
        except BlockingIOError:
            pass
        except OSError as exc:
            self._fail(StorageError(f"the writer process is gone ({exc})"))
            return None
        if chunk == b"":
            if not self._closing or self._in_flight:
                self._fail(StorageError("the writer process is gone"))
            self._unwatch()
            return None
        if chunk:
            self._acks += chunk
        others = []
        stats = self.stats
        while b"\n" in self._acks:
            line, _, self._acks = self._acks.partition(b"\n")
            answer = orjson.loads(line)
            ticket = answer.get("t")
            if ticket is not None:
                stats.transactions += 1
                stats.cpu_s += answer["cpu"] / 1e6
                stats.wall_s += answer["wall"] / 1e6
                self._durable_upto = ticket
            elif "error" in answer:
                log.error("storage of %s: write failed: %s", self.label, answer["error"])
                self._fail(StorageError(answer["error"]))
            else:
                others.append(answer)
        self._deliver_durable()
        return others

    def _deliver_durable(self) -> None:
        upto = self._durable_upto
        if upto <= self.durable_ticket:
            return
        in_flight = self._in_flight
        while in_flight and in_flight[0].last_ticket <= upto:
            group = in_flight.popleft()
            self.stats.batches += len(group.batches)
            contents = self._contents
            for batch in group.batches:
                # what was read from disk while this group was in flight may predate it
                self._forget_cached(batch)
                for address, text in batch.contents.items():
                    contents.put(address, text)
        waiters = self._waiters
        if waiters:
            for ticket in range(self.durable_ticket + 1, upto + 1):
                for fut, result in waiters.pop(ticket, ()):
                    if not fut.done():
                        fut.set_result(result)
        self.durable_ticket = upto
        if self._open is not None and not in_flight:
            self._hand_off()

    def _fail(self, exc: BaseException) -> None:
        if self._failed is None:
            self._failed = exc
        self._fail_waiters()

    def _fail_waiters(self) -> None:
        error = StorageError(f"storage of {self.label} failed: {self._failed}")
        for futs in self._waiters.values():
            for fut, _ in futs:
                if not fut.done():
                    fut.set_exception(error)
        self._waiters.clear()

    # -- reading (groups not yet durable first, then caches, then disk) ------------------

    def _groups(self) -> list[_Group]:
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

    def get_content(self, address: str) -> str | None:
        if self._open is not None or self._in_flight:
            for group in self._groups():
                text = group.tables.contents.get(address)
                if text is not None:
                    return text
        text = self._contents.get(address)
        if text is not None:
            return text
        found = self._read(_GET_CONTENT, (address,))
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
            upper: str | bytes = (
                attribute_prefix + "\U0010ffff" if attribute_prefix else b"\xff"
            )  # a blob sorts after all text
            rows = list(dict.fromkeys(EavRow(*r) for r in self._read(_EAV, (entity, attribute_prefix, upper))))
            if cached is None:
                cached = {}
                self._eav_cache.put(entity, cached)
            cached[attribute_prefix] = rows
        if self._open is None and not self._in_flight:
            return list(rows)
        found = dict.fromkeys(rows)
        for group in reversed(self._groups()):
            for r in group.tables.eav_rows(entity, attribute_prefix):
                found[r] = None
        return list(found)

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

    def close(self) -> None:
        if self._closed_channel:
            return
        self._closing = True
        try:
            self.flush()
        except StorageError as exc:
            log.error("%s", exc)
        self._unwatch()
        try:  # a zero-length group: the writer closes the database and says so
            self._send(writer_process.HEADER.pack(0, 0))
            deadline = time.monotonic() + _OPEN_TIMEOUT_S
            while time.monotonic() < deadline:
                answers = self._read_acks(block=True, timeout=deadline - time.monotonic())
                if answers is None or any(a.get("closed") for a in answers):
                    break
        except OSError:
            pass
        self._closed_channel = True
        self._channel.close()
        os.close(self._lock_fd)
        self._reader.close()
