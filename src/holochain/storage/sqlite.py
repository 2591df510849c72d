"""SQLite storage: the embedded default for everything persistent.

One database file per instance (``<path>/instance.sqlite3``), WAL journal.
Writes are *group-committed*: :meth:`SqliteStore.write` applies the batch to
an in-memory overlay (so reads see it at once) and queues it; a writer thread
drains the queue, writes every waiting batch in one transaction and commits
it (one fsync for all of them), then tells the event loop which tickets are
durable.  Replies wait only for their own ticket, so a busy conductor pays
one fsync per batch of calls, not one per call, without giving up
durability.

``synchronous="full"`` (the default) fsyncs every commit: a reply sent means
the data survives power loss.  ``"normal"`` skips the fsync of WAL commits:
faster, and still safe against a crash of the conductor process, but the
last commits before a power failure or kernel crash can be lost.

A write that fails (disk full, I/O error) fails every pending and later
ticket: the store turns read-only-and-broken rather than letting the chain
advance in memory past what is on disk.  Restarting reloads exactly the
batches that were committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

from .base import ChainRow, EavRow, StorageError, WriteBatch
from .memory import Tables

__all__ = ["SqliteStore", "SCHEMA_VERSION", "DB_FILENAME"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DB_FILENAME = "instance.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chain (
    seq INTEGER PRIMARY KEY,
    header_address TEXT NOT NULL UNIQUE,
    header TEXT NOT NULL,
    entry_address TEXT NOT NULL,
    entry_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contents (
    address TEXT PRIMARY KEY,
    content TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS headers (
    entry_address TEXT NOT NULL,
    header_address TEXT NOT NULL,
    header TEXT NOT NULL,
    PRIMARY KEY (entry_address, header_address)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eav (
    entity TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (entity, attribute, value, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

_STOP = object()


class SqliteStore:
    def __init__(self, directory: str | Path, *, synchronous: str = "full", label: str = "") -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError("synchronous must be 'full' or 'normal'")
        self.directory = Path(directory)
        self.label = label or str(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DB_FILENAME
        self._synchronous = synchronous.upper()
        try:
            self._reader = self._connect()
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage of {self.label} at {self.path} is damaged: {exc}") from None
        self._overlay = Tables()
        self._length = self._read_length()
        self._next_ticket = 0
        self.durable_ticket = 0
        self._durable_upto = 0  # set by the writer thread
        self._held_counts: tuple[int, tuple[int, int]] | None = None  # (durable ticket, counts)
        self._failed: BaseException | None = None
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._pending: dict[int, WriteBatch] = {}
        self._queue: "queue.SimpleQueue[object]" = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer = threading.Thread(target=self._write_loop, name=f"sqlite-writer {self.label}", daemon=True)
        self._writer.start()

    # -- connections -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=OFF")
        return conn

    def _init_schema(self) -> None:
        version = self._reader.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            self._reader.executescript(_SCHEMA)
            self._reader.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise StorageError(
                f"storage of {self.label} has schema version {version}; this conductor "
                f"understands version {SCHEMA_VERSION}"
            )
        result = self._reader.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise StorageError(f"storage of {self.label} at {self.path} is damaged: {result}")

    def _read_length(self) -> int:
        row = self._reader.execute("SELECT MAX(seq) FROM chain").fetchone()
        return 0 if row[0] is None else row[0] + 1

    # -- writing -------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> int:
        if self._failed is not None:
            raise StorageError(f"storage of {self.label} failed earlier: {self._failed}")
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                self._loop = None
        self._overlay.apply(batch)
        if batch.chain:
            self._length = max(self._length, batch.chain[-1].seq + 1)
        self._next_ticket += 1
        ticket = self._next_ticket
        self._pending[ticket] = batch
        self._queue.put((ticket, batch))
        return ticket

    def wait_durable(self, ticket: int) -> "asyncio.Future[None] | None":
        if ticket <= self.durable_ticket:
            return None
        if self._failed is not None:
            raise StorageError(f"storage of {self.label} failed: {self._failed}")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.setdefault(ticket, []).append(fut)
        return fut

    def flush(self, timeout: float = 30.0) -> None:
        """Block until everything written so far is durable (used at shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise StorageError(f"storage of {self.label} did not flush within {timeout}s")
        self._deliver_durable()

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            self._fail(exc)
            return
        while True:
            item = self._queue.get()
            items = [item]
            while True:  # drain whatever else is waiting: one transaction for all
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batches = [i for i in items if isinstance(i, tuple)]
            if batches and self._failed is None:
                try:
                    self._commit(conn, [b for _, b in batches])
                except (sqlite3.Error, OSError) as exc:
                    log.error("storage of %s: write failed: %s", self.label, exc)
                    self._fail(exc)
                else:
                    self._durable_upto = batches[-1][0]
                    self._notify_loop()
            for i in items:
                if isinstance(i, threading.Event):
                    i.set()
            if any(i is _STOP for i in items):
                conn.close()
                return


    def _commit(self, conn: sqlite3.Connection, batches: list[WriteBatch]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for b in batches:
                if b.chain:
                    conn.executemany(
                        "INSERT INTO chain VALUES (?,?,?,?,?)",
                        [(r.seq, r.header_address, r.header, r.entry_address, r.entry_type) for r in b.chain],
                    )
                if b.contents:
                    conn.executemany("INSERT OR IGNORE INTO contents VALUES (?,?)", b.contents.items())
                if b.headers:
                    conn.executemany("INSERT OR IGNORE INTO headers VALUES (?,?,?)", b.headers)
                if b.eav:
                    conn.executemany(
                        "INSERT OR IGNORE INTO eav VALUES (?,?,?,?)",
                        [(r.entity, r.attribute, r.value, r.index) for r in b.eav],
                    )
                if b.kv:
                    conn.executemany("INSERT OR REPLACE INTO kv VALUES (?,?)", b.kv.items())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _notify_loop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._deliver_durable)
                return
            except RuntimeError:  # loop closed meanwhile
                pass
        # no loop (synchronous use): nothing awaits; overlay is dropped on flush

    def _deliver_durable(self) -> None:
        upto = self._durable_upto
        if upto <= self.durable_ticket:
            return
        for ticket in range(self.durable_ticket + 1, upto + 1):
            batch = self._pending.pop(ticket, None)
            if batch is not None:
                self._overlay.forget(batch)
            for fut in self._waiters.pop(ticket, ()):
                if not fut.done():
                    fut.set_result(None)
        self.durable_ticket = upto

    def _fail(self, exc: BaseException) -> None:
        self._failed = exc
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._fail_waiters)
            except RuntimeError:
                pass

    def _fail_waiters(self) -> None:
        error = StorageError(f"storage of {self.label} failed: {self._failed}")
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(error)
        self._waiters.clear()

    # -- reading (overlay first, then disk) ---------------------------------------------

    def chain_length(self) -> int:
        return self._length

    def chain_row(self, seq: int) -> ChainRow | None:
        row = self._overlay.chain.get(seq)
        if row is not None:
            return row
        found = self._reader.execute(
            "SELECT seq, header_address, header, entry_address, entry_type FROM chain WHERE seq=?", (seq,)
        ).fetchone()
        return ChainRow(*found) if found else None

    def chain_rows(self, start: int = 0) -> Iterator[ChainRow]:
        seq = start
        cursor = self._reader.execute(
            "SELECT seq, header_address, header, entry_address, entry_type FROM chain WHERE seq>=? ORDER BY seq",
            (start,),
        )
        for found in cursor:
            yield ChainRow(*found)
            seq = found[0] + 1
        end = self._length
        while seq < end:
            row = self._overlay.chain.get(seq) or self.chain_row(seq)
            if row is None:
                break
            yield row
            seq += 1

    def get_content(self, address: str) -> str | None:
        text = self._overlay.contents.get(address)
        if text is not None:
            return text
        found = self._reader.execute("SELECT content FROM contents WHERE address=?", (address,)).fetchone()
        return found[0] if found else None

    def held_headers(self, entry_address: str) -> list[str]:
        found = dict(
            self._reader.execute(
                "SELECT header_address, header FROM headers WHERE entry_address=?", (entry_address,)
            ).fetchall()
        )
        found.update(self._overlay.headers.get(entry_address, {}))
        return list(found.values())

    def eav(self, entity: str, attribute_prefix: str = "") -> list[EavRow]:
        if attribute_prefix:
            rows = self._reader.execute(
                "SELECT entity, attribute, value, idx FROM eav WHERE entity=? AND attribute>=? AND attribute<?",
                (entity, attribute_prefix, attribute_prefix + "\U0010ffff"),
            ).fetchall()
        else:
            rows = self._reader.execute(
                "SELECT entity, attribute, value, idx FROM eav WHERE entity=?", (entity,)
            ).fetchall()
        found = {EavRow(*r): None for r in rows}
        for r in self._overlay.eav_rows(entity, attribute_prefix):
            found[r] = None
        return list(found)

    def kv_get(self, key: str) -> str | None:
        value = self._overlay.kv.get(key)
        if value is not None:
            return value
        found = self._reader.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return found[0] if found else None

    def held_counts(self) -> tuple[int, int]:
        """Entries and headers held, as committed to disk (recounted only after new commits)."""
        if self._held_counts is None or self._held_counts[0] != self.durable_ticket:
            try:
                entries, headers = self._reader.execute(
                    "SELECT COUNT(DISTINCT entry_address), COUNT(*) FROM headers").fetchone()
            except sqlite3.Error as exc:
                raise StorageError(f"storage of {self.label}: cannot count held entries: {exc}") from None
            self._held_counts = (self.durable_ticket, (entries, headers))
        return self._held_counts[1]

    def close(self) -> None:
        if self._writer.is_alive():
            try:
                self.flush()
            except StorageError as exc:
                log.error("%s", exc)
            self._queue.put(_STOP)
            self._writer.join(timeout=30)
        self._reader.close()
