"""SQLite storage: the embedded default for everything persistent.

One database file per instance (``<path>/instance.sqlite3``), WAL journal.

**Group commit, one statement per transaction, in a writer process.**
:meth:`SqliteStore.write` adds the batch to the *open group* (an in-memory
overlay, so reads see it at once) and returns a ticket.  At the end of the
event loop's tick the open group is turned into one JSON text
(:mod:`.sqlite_encoding`) and sent to the conductor's writer process
(:mod:`.writer_process`, started by :mod:`.writer_client`), which writes every
row of it with *one* SQL statement (an ``INSERT`` into a temporary view whose
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

**Layout**: :mod:`.sqlite_schema` (and how older files are migrated).
**Reads**: :mod:`.sqlite_reads` (groups not yet durable first, then caches,
then the disk).

A write that fails (disk full, I/O error), or a writer process that dies,
fails every pending and later ticket: the store turns read-only-and-broken
rather than letting the chain advance in memory past what is on disk.
Restarting reloads exactly the groups that were committed.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import select
import socket
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

import orjson

from ..core.private_files import private_dir, private_file
from . import encryption, writer_process
from .base import StorageError, WriteBatch
from .sqlite_cache import Cache, Group
from .sqlite_encoding import payload
from .sqlite_reads import SqliteReads
from .sqlite_schema import DB_FILENAME, SCHEMA_VERSION, init_schema
from .writer_client import (
    GROUP_BUCKETS,
    OPEN_TIMEOUT_S,
    WRITE_BUCKETS,
    WriterStats,
    take_lock,
    writer_process_pid,
    writers,
)

__all__ = [
    "SqliteStore",
    "SCHEMA_VERSION",
    "DB_FILENAME",
    "WriterStats",
    "GROUP_BUCKETS",
    "WRITE_BUCKETS",
    "writer_process_pid",
]

log = logging.getLogger(__name__)

_CONTENT_CACHE_BYTES = 8 * 1024 * 1024
_ENTITY_CACHE_ITEMS = 4096

_LOCK_FILENAME = DB_FILENAME + ".lock"


class SqliteStore(SqliteReads):
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
        self._lock_fd = take_lock(private_file(self.directory / _LOCK_FILENAME), self.label)
        try:
            try:
                self._reader = writer_process.connect(str(self.path), self._synchronous, key)
                self._init_schema()
            except self._errors as exc:
                raise encryption.open_error(self.label, self.path, key, exc) from None
            self._channel = writers.open_channel(str(self.path), self._synchronous, self.label, self._lock_fd, key)
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
        self._open: Group | None = None  # collecting writes, not yet handed to the writer
        self._in_flight: collections.deque[Group] = collections.deque()  # handed over, not yet durable
        self._hand_off_scheduled = False
        self._contents = Cache(_CONTENT_CACHE_BYTES, by_size=True)
        self._headers_cache = Cache(_ENTITY_CACHE_ITEMS, by_size=False)  # entry -> [(address, header)]
        self._eav_cache = Cache(_ENTITY_CACHE_ITEMS, by_size=False)  # entity -> {prefix: rows}
        self._crud_cache = Cache(_ENTITY_CACHE_ITEMS, by_size=False)  # address -> CrudState on disk
        self.stats = WriterStats()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watched: asyncio.AbstractEventLoop | None = None  # the loop that reads our acknowledgements

    # -- connections -------------------------------------------------------------

    def _init_schema(self) -> None:
        init_schema(self._reader, self.label, self.path, self._errors)

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
            group = self._open = Group()
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
        for fact in batch.crud:
            self._crud_cache.drop(fact.address)

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
        data = payload(group.batches)
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
                if not select.select([], [channel], [], OPEN_TIMEOUT_S)[1]:
                    raise OSError(f"the writer process took nothing for {OPEN_TIMEOUT_S:g}s") from None

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
                wall = answer["wall"] / 1e6
                stats.wall_s += wall
                stats.wall_buckets[bisect_left(WRITE_BUCKETS, wall)] += 1
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
            self.stats.group_buckets[bisect_left(GROUP_BUCKETS, len(group.batches))] += 1
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
            deadline = time.monotonic() + OPEN_TIMEOUT_S
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
