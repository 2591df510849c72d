"""Files only their owner may read: the saved configuration (it can hold passphrases and NATS
credentials), keystores, instance databases and their lock files.

Each is created 0600, in directories this conductor creates 0700, and keeps its mode on every
rewrite (an atomic rewrite makes a new file: it gets 0600 too, whatever the old one had or the
umask says).  Directories that exist already belong to whoever made them and are left alone,
except a store's own directory (:func:`private_dir` with ``tighten``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_FILE", "PRIVATE_DIR", "private_dir", "private_file", "write_private"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (``mkdir`` with a mode sets it on
    the last one only).  With ``tighten``, an existing ``path`` owned by us is made 0700 too."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(directory, PRIVATE_DIR)  # mkdir's mode passes through the umask
    if tighten and not missing:
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600 (created so, or tightened if it is ours).

    SQLite gives a database's ``-wal`` and ``-shm`` files the mode of the database file, so a
    database created through this is private with all its parts.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600: a crash leaves the old file or the
    new one, never half, and never a moment with the content readable by others."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # a stale tmp file of another mode keeps its mode through O_CREAT
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
