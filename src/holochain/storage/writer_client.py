"""The conductor's side of the SQLite writer process: starting it, a channel per store, the lock.

One writer process serves every SQLite store of a conductor (see
:mod:`.writer_process` for why a process); it is started with the first
store, and started again if it died.  Each store holds a lock file
(``instance.sqlite3.lock``) so that one conductor, and its writer, use a
store at a time.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from .base import StorageError

__all__ = [
    "WriterStats",
    "GROUP_BUCKETS",
    "WRITE_BUCKETS",
    "take_lock",
    "writers",
    "writer_process_pid",
    "LOCK_WAIT_S",
    "OPEN_TIMEOUT_S",
]

LOCK_WAIT_S = 5.0  # a writer of a killed predecessor finishing its last group takes milliseconds
OPEN_TIMEOUT_S = 30.0


# upper bounds: batches in one group commit, and seconds the writer took to write and fsync one
GROUP_BUCKETS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WRITE_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class WriterStats:
    """What the writer did for this store: transactions, batches, its CPU time (for the
    benchmark), and histograms of group sizes and write times (for ``/metrics``)."""

    __slots__ = ("transactions", "batches", "cpu_s", "wall_s", "group_buckets", "wall_buckets")

    def __init__(self) -> None:
        self.transactions = 0
        self.batches = 0
        self.cpu_s = 0.0
        self.wall_s = 0.0
        # counts per bucket of GROUP_BUCKETS / WRITE_BUCKETS, a last one for what is larger
        self.group_buckets = [0] * (len(GROUP_BUCKETS) + 1)
        self.wall_buckets = [0] * (len(WRITE_BUCKETS) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "batches": self.batches,
            "cpu_s": round(self.cpu_s, 4),
            "wall_s": round(self.wall_s, 4),
        }


def take_lock(path: Path, label: str) -> int:
    """Hold the store's lock file: one conductor (and its writer) per store at a time."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise StorageError(
                    f"storage of {label} at {path.parent} is in use by another conductor "
                    f"(its lock file {path.name} stayed locked for {LOCK_WAIT_S:g}s)"
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
                [sys.executable, "-m", "holochain.storage", str(theirs.fileno())],
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
        ours.settimeout(OPEN_TIMEOUT_S)
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


writers = _Writers()


def writer_process_pid() -> int | None:
    """The pid of this conductor's SQLite writer process, if it runs (for benchmarks and tests)."""
    proc = writers._proc
    return proc.pid if proc is not None and proc.poll() is None else None
