"""Encryption at rest for SQLite stores (beyond holochain-rust, as the current Holochain does).

An encrypted store is an SQLCipher 4 database (the PyPI binding ``sqlcipher3``, which bundles
SQLCipher and its crypto): every page AES-256 encrypted and HMAC-SHA512 authenticated, the WAL
too, under a raw 256-bit key the conductor derives for the instance's agent
(:func:`holochain.conductor.keystore.store_key`).  The key is set on each connection before
anything is read, goes to the writer process over the store's socket pair, and is never
written anywhere.

A store is opened the way it was made: a plain file under ``encrypted = true``, or an encrypted
one without it, is refused with a message that says which, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from .base import StorageError
from .writer_process import db_errors

__all__ = ["PLAIN_HEADER", "check_can_open", "open_error"]

PLAIN_HEADER = b"SQLite format 3\x00"  # the first bytes of every unencrypted SQLite database


def check_can_open(path: Path, key: str | None, label: str) -> tuple[type[Exception], ...]:
    """Refuse a store whose file does not match ``key`` (given or not); the errors its
    connections raise."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(PLAIN_HEADER))
    except OSError as exc:
        raise StorageError(f"storage of {label} at {path} cannot be read: {exc.strerror}") from None
    if key is None and head and head != PLAIN_HEADER:
        raise StorageError(
            f"storage of {label} at {path} is encrypted (or is no SQLite database at all): "
            "its instance needs `encrypted = true` in [instances.storage], with the agent whose key made it"
        )
    if key is not None and head == PLAIN_HEADER:
        raise StorageError(
            f"storage of {label} at {path} is not encrypted, but its configuration says `encrypted = true`; "
            "an existing store is not converted: drop the setting, or give the instance a new storage path"
        )
    try:
        return db_errors(key is not None)
    except ImportError:
        raise StorageError(
            f"storage of {label}: encrypted stores need the SQLCipher binding `sqlcipher3` "
            "(pip install sqlcipher3), which is not installed"
        ) from None


def open_error(label: str, path: Path, key: str | None, exc: Exception) -> StorageError:
    """What an error while opening a store means, in words a user can act on."""
    if key is not None and "not a database" in str(exc):
        return StorageError(
            f"storage of {label} at {path} cannot be opened with the key of its agent "
            f"(a store of another agent?) or is damaged: {exc}"
        )
    return StorageError(f"storage of {label} at {path} is damaged: {exc}")
