"""The SQLite writer process: where every SQLite store of a conductor writes, beside it.

Why a process and not a thread: a writer thread needs the GIL twice per group
commit (to start its statement, and to report it done), and each time the
event loop's thread is stopped, hands the GIL over and waits to get it back:
measured, 10 % of the loop's time under a committing load went to those
hand-overs and to the futex wake-ups they cost on this kind of VM.  A process
of its own has its own GIL: the event loop hands it a group with one
``send()`` and learns that it is durable from one line read when the loop
polls its sockets anyway.

One process serves every store of the conductor (started with the first
store, ``python -m holochain.storage FD``), so an extra
instance costs a socket and a thread in it, not an interpreter.  Each store
gets its own socket pair, handed over the control socket (SCM_RIGHTS), and a
thread here that:

* opens the database (the same pragmas as the store's reader), answers
  ``{"ok": true}`` or ``{"error": …}``;
* reads groups — ``[u32 length][u64 last ticket][JSON texts, one a line]`` — and writes
  each with one statement in autocommit mode (so the inserts, the commit and
  its fsync run in one ``sqlite3_step``), then answers
  ``{"t": ticket, "cpu": µs, "wall": µs}`` (or ``{"error": …}``, after which
  it writes nothing more);
* runs checkpoints in a thread of its own (see ``CHECKPOINT_EVERY``);
* stops at a zero-length message (answering ``{"closed": true}`` once its
  connections are closed) or when the conductor's end of the socket closes.
  A group is written only once it has been read whole, so a conductor killed
  while sending loses that group, as it would have lost it unsent.

The store's lock file (``flock``, held by the conductor and by this process
through the same open file) is released only when both are gone, so a
conductor restarted at once waits until a writer still finishing the group of
its killed predecessor is done before it reads the chain.

This module imports nothing but the standard library (and, for an encrypted
store only, the SQLCipher binding ``sqlcipher3``): the process starts in
~20 ms and stays small.

An encrypted store's connections are SQLCipher's, keyed with the raw 256-bit
key the conductor derived (it comes over the store's socket pair, never
through a file or the command line), before anything else is read.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import struct
import sys
import threading
import time
from typing import Any

__all__ = ["connect", "db_errors", "WRITER_SETUP", "WRITE", "HEADER", "main"]

HEADER = struct.Struct("!IQ")  # payload length, last ticket of the group
MAX_FDS = 2  # a store's socket and its lock file

CACHE_KIB = 32 * 1024  # page cache per connection (grows only as pages are used)
MMAP_BYTES = 256 * 1024 * 1024  # reads map the file instead of copying pages
BUSY_TIMEOUT_MS = 30_000

# Checkpoints (copying the WAL back into the database file) run in a thread of their own:
# done by the writer inside a commit, one of 8,000 pages stalled that commit and everything
# behind it for 10-40 ms (the p99 of a busy conductor).  Every CHECKPOINT_EVERY transactions
# the checkpointer copies what it can without blocking anyone (PASSIVE).  The WAL can only
# start again from its beginning once everything in it is copied when a write begins, which
# under steady writing never happens by itself: so when the checkpointer finds more than
# REWIND_FRAMES pages still in the WAL, the writer runs a PASSIVE checkpoint itself before
# its next transaction (little is left to copy by then).  The WAL file stays near 50 MB.
CHECKPOINT_EVERY = 64
REWIND_FRAMES = 8000

# The writer's one statement: a group's rows as one JSON text per table (see
# sqlite_encoding.payload), fanned out by a trigger.  Rows that only repeat what a chain row of the same batch says (its entry's
# content, its header held for its entry, the entry's 'live' status, its header-entry) were
# folded into that chain row; what arrives later and repeats one is not stored again.
# CRUD and link facts are merged into the current state of their address or LinkAdd.
WRITER_SETUP = """
CREATE TEMP VIEW inbox (chain, contents, headers, eav, kv, crud, links, entries, pairs)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL;
CREATE TEMP TRIGGER inbox_write INSTEAD OF INSERT ON inbox BEGIN
    UPDATE held_counts SET
        entries = entries + (SELECT COUNT(*) FROM json_each(NEW.entries) AS n
            WHERE NOT EXISTS (SELECT 1 FROM headers WHERE entry_address = n.value)
              AND NOT EXISTS (SELECT 1 FROM chain WHERE entry_address = n.value AND folded & 1)),
        headers = headers + (SELECT COUNT(*) FROM json_each(NEW.pairs) AS n
            WHERE NOT EXISTS (SELECT 1 FROM headers WHERE entry_address = json_extract(n.value, '$[0]')
                                                      AND header_address = json_extract(n.value, '$[1]'))
              AND NOT EXISTS (SELECT 1 FROM chain WHERE header_address = json_extract(n.value, '$[1]')
                                                    AND entry_address = json_extract(n.value, '$[0]') AND folded & 1));
    INSERT INTO chain (seq, header_address, header, entry_address, entry_type, content, folded, live)
        SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
               json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'),
               json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]')
        FROM json_each(NEW.chain) AS r;
    INSERT OR IGNORE INTO contents (address, content)
        SELECT r.key, r.value FROM json_each(NEW.contents) AS r
        WHERE NOT EXISTS (SELECT 1 FROM main.chain AS c WHERE c.entry_address = r.key AND c.content = r.value)
          AND NOT EXISTS (SELECT 1 FROM main.chain AS c WHERE c.header_address = r.key AND c.folded & 2
                                                        AND '{"ChainHeader":' || c.header || '}' = r.value);
    INSERT OR IGNORE INTO headers (entry_address, header_address, header)
        SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]')
        FROM json_each(NEW.headers) AS r
        WHERE NOT EXISTS (SELECT 1 FROM main.chain AS c WHERE c.header_address = json_extract(r.value, '$[1]')
                          AND c.entry_address = json_extract(r.value, '$[0]') AND c.folded & 1);
    INSERT OR IGNORE INTO eav (entity, attribute, value, idx)
        SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'),
               json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]')
        FROM json_each(NEW.eav) AS r;
    INSERT OR REPLACE INTO kv (key, value) SELECT r.key, r.value FROM json_each(NEW.kv) AS r;
    -- CRUD facts merged into one state per address (storage.base.merge_crud); a 'live' fact
    -- of an address already live by a chain row of ours is not stored again
    INSERT INTO crud (address, rank, link, link_idx)
        SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'),
               json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]')
        FROM json_each(NEW.crud) AS r
        WHERE NOT (json_extract(r.value, '$[1]') = 1 AND json_extract(r.value, '$[2]') IS NULL
                   AND EXISTS (SELECT 1 FROM main.chain WHERE entry_address = json_extract(r.value, '$[0]')
                                                          AND live IS NOT NULL))
        ON CONFLICT (address) DO UPDATE SET
            rank = MAX(rank, excluded.rank),
            link = iif(excluded.link IS NOT NULL AND (link IS NULL OR excluded.link_idx < link_idx
                       OR (excluded.link_idx = link_idx AND excluded.link < link)), excluded.link, link),
            link_idx = iif(excluded.link IS NOT NULL AND (link IS NULL OR excluded.link_idx < link_idx
                       OR (excluded.link_idx = link_idx AND excluded.link < link)), excluded.link_idx, link_idx);
    -- link facts merged into one state per LinkAdd (storage.base.merge_link); the counts
    -- follow by the links table's own triggers
    INSERT INTO links (base, link_add, link_type, tag, utag, target, idx, removed_by)
        SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
               json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'),
               json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]')
        FROM json_each(NEW.links) AS r WHERE true
        ON CONFLICT (base, link_add) DO UPDATE SET
            target = COALESCE(target, excluded.target),
            link_type = iif(excluded.removed_by IS NOT NULL AND (removed_by IS NULL OR excluded.idx > idx),
                            excluded.link_type, link_type),
            tag = iif(excluded.removed_by IS NOT NULL AND (removed_by IS NULL OR excluded.idx > idx),
                      excluded.tag, tag),
            utag = iif(excluded.removed_by IS NOT NULL AND (removed_by IS NULL OR excluded.idx > idx),
                       excluded.utag, utag),
            removed_by = iif(excluded.removed_by IS NOT NULL AND (removed_by IS NULL OR excluded.idx > idx),
                             excluded.removed_by, removed_by),
            idx = iif(excluded.removed_by IS NOT NULL AND (removed_by IS NULL OR excluded.idx > idx),
                      excluded.idx, idx);
END;
"""
WRITE = "INSERT INTO inbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
COLUMNS = 9  # the JSON texts of a group, one line each (see sqlite_encoding.payload)


def _cipher() -> Any:
    """The SQLCipher binding (``sqlcipher3``, which bundles SQLCipher), imported when first needed."""
    from sqlcipher3 import dbapi2

    return dbapi2


def db_errors(encrypted: bool) -> tuple[type[Exception], ...]:
    """The ``Error`` classes a store's connections raise (SQLCipher's binding has its own)."""
    return (sqlite3.Error, _cipher().Error) if encrypted else (sqlite3.Error,)


def connect(path: str, synchronous: str, key: str | None = None) -> sqlite3.Connection:
    """A connection with the pragmas every connection to a store has (the reader's too).

    ``key`` (64 hex digits) opens the store with SQLCipher; it is set before any other statement.
    """
    if key is None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    else:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("a store key is 64 lower-case hex digits")
        conn = _cipher().connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA key = \"x'{key}'\"")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return conn


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """``n`` bytes, or None if the other end closed first."""
    parts = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _answer(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode("utf-8") + b"\n")


class _StoreWriter:
    """One store's writer thread (and its checkpointer)."""

    def __init__(
        self, sock: socket.socket, lock_fd: int, path: str, synchronous: str, label: str, key: str | None = None
    ) -> None:
        self.sock = sock
        self.lock_fd = lock_fd
        self.path = path
        self.synchronous = synchronous
        self.label = label
        self.key = key
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        self.rewind = False
        self.closing = False
        self.checkpoint_wanted = threading.Event()
        self.checkpointer = threading.Thread(target=self._checkpoint_loop, name=f"checkpoints {label}", daemon=True)

    def run(self) -> None:
        try:
            try:
                self.errors = db_errors(self.key is not None)
            except ImportError as exc:
                _answer(self.sock, {"error": f"the SQLCipher binding is not installed: {exc}"})
                return
            opening: tuple[type[Exception], ...] = (*self.errors, ValueError)
            try:
                conn = connect(self.path, self.synchronous, self.key)
                conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does them
                conn.executescript(WRITER_SETUP)
            except opening as exc:
                _answer(self.sock, {"error": str(exc)})
                return
            _answer(self.sock, {"ok": True})
            try:
                asked_to_close = self._serve(conn)
            finally:
                self.closing = True
                self.checkpoint_wanted.set()
                if self.checkpointer.is_alive():
                    self.checkpointer.join(timeout=30)
                conn.close()
            if asked_to_close:  # only now: the conductor's last connection then checkpoints the WAL away
                _answer(self.sock, {"closed": True})
        except OSError:
            pass  # the conductor is gone: nothing left to tell it
        finally:
            self.sock.close()
            os.close(self.lock_fd)

    def _next_group(self) -> tuple[int, bytes] | bool:
        """The next group ``(last ticket, JSON)``; True when told to close, False when cut off
        (a group cut off mid-way was never acknowledged, so it is not written)."""
        head = _recv_exact(self.sock, HEADER.size)
        if head is None:
            return False
        length, ticket = HEADER.unpack(head)
        if length == 0:
            return True
        data = _recv_exact(self.sock, length)
        return False if data is None else (ticket, data)

    def _serve(self, conn: sqlite3.Connection) -> bool:
        """Write groups until told to close (True) or cut off (False).  After a failed write
        nothing more is written (the store is broken): groups are read and dropped until the close."""
        transactions = 0
        failed = False
        writing: tuple[type[Exception], ...] = (*self.errors, ValueError)  # (UnicodeDecodeError is one)
        while True:
            group = self._next_group()
            if isinstance(group, bool):
                return group
            if failed:
                continue
            ticket, data = group
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                if self.rewind:
                    self.rewind = False
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                columns = data.decode("utf-8").split("\n")
                if len(columns) != COLUMNS:
                    raise ValueError(f"a group of {len(columns)} columns, not {COLUMNS}")
                conn.execute(WRITE, columns)
            except writing as exc:
                _answer(self.sock, {"error": str(exc)})
                failed = True
                continue
            _answer(
                self.sock,
                {
                    "t": ticket,
                    "cpu": round(1e6 * (time.thread_time() - cpu)),
                    "wall": round(1e6 * (time.perf_counter() - wall)),
                },
            )
            transactions += 1
            if transactions % CHECKPOINT_EVERY == 0:
                if not self.checkpointer.is_alive():
                    self.checkpointer.start()
                self.checkpoint_wanted.set()

    def _checkpoint_loop(self) -> None:
        """Copy the WAL back into the database beside the writer (see ``CHECKPOINT_EVERY``)."""
        try:
            conn = connect(self.path, self.synchronous, self.key)
        except self.errors as exc:
            print(f"storage of {self.label}: no checkpoints: {exc}", file=sys.stderr)
            return
        try:
            while True:
                self.checkpoint_wanted.wait()
                self.checkpoint_wanted.clear()
                if self.closing:
                    return
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except self.errors as exc:  # e.g. disk full: the writer fails and says so
                    print(f"storage of {self.label}: checkpoint failed: {exc}", file=sys.stderr)
                    continue
                if frames > REWIND_FRAMES:
                    self.rewind = True
        finally:
            conn.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(args[0]))
    threads: list[threading.Thread] = []
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, MAX_FDS)
        except OSError:
            break
        if not message:
            break  # the conductor is gone (or done): finish what each store is writing, then stop
        request = json.loads(message)
        sock = socket.socket(fileno=fds[0])
        writer = _StoreWriter(
            sock, fds[1], request["path"], request["synchronous"], request["label"], request.get("key")
        )
        thread = threading.Thread(target=writer.run, name=f"writer {request['label']}")
        thread.start()
        threads.append(thread)
        threads = [t for t in threads if t.is_alive()]
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
