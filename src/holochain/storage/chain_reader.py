"""Reading a stored source chain from outside the conductor (``hc chain``).

The conductor that owns a store may be running: its writer process appends
to the database while we read.  So this reader never takes the store's lock
file and never writes: it opens the SQLite file with ``mode=ro`` (a
read-only connection in WAL mode reads the last committed state and does not
block the writer, nor does the writer block it).  What a running conductor
has not yet made durable is not visible here; everything committed is.

Records are read newest first by ``seq`` (the table's integer primary key),
a page at a time, so the head of a 100,000-record chain prints at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .base import StorageError
from .sqlite_reads import GET_CONTENT as _GET_CONTENT
from .sqlite_schema import DB_FILENAME, SCHEMA_VERSION

__all__ = ["ChainReader", "ChainRecord", "find_stores"]

_SEARCH_DEPTH = 4  # how deep below --path stores are looked for


@dataclass(frozen=True)
class ChainRecord:
    """One record: its position, its header (decoded JSON) and its entry's JSON text."""

    seq: int
    header_address: str
    header: dict[str, Any]
    entry_address: str
    entry_type: str
    entry: str | None  # None when the entry is not in the store (a damaged store)

    def to_json(self) -> dict[str, Any]:
        entry: Any = None
        if self.entry is not None:
            try:
                entry = orjson.loads(self.entry)
            except orjson.JSONDecodeError:
                entry = self.entry
        return {
            "seq": self.seq,
            "header_address": self.header_address,
            "header": self.header,
            "entry_address": self.entry_address,
            "entry_type": self.entry_type,
            "entry": entry,
        }


def find_stores(root: Path) -> dict[str, Path]:
    """The SQLite stores at or below ``root``: a name (the path relative to ``root``, ``.``
    for ``root`` itself) to the store's directory, sorted by name."""
    found: dict[str, Path] = {}
    if (root / DB_FILENAME).is_file():
        found["."] = root

    def walk(directory: Path, depth: int) -> None:
        if depth > _SEARCH_DEPTH:
            return
        try:
            children = sorted(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            return
        for child in children:
            if (child / DB_FILENAME).is_file():
                found[child.relative_to(root).as_posix()] = child
            walk(child, depth + 1)

    walk(root, 1)
    return found


class ChainReader:
    """A read-only view of one store's source chain."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / DB_FILENAME
        if not self.path.is_file():
            raise StorageError(f"no store at {directory} (no {DB_FILENAME} there)")
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
            self._db.execute("PRAGMA query_only = ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the store at {self.path} read-only: {exc}") from None
        if version != SCHEMA_VERSION:
            self._db.close()
            raise StorageError(
                f"the store at {self.path} has schema version {version}; this tool reads version "
                f"{SCHEMA_VERSION} (start the conductor on it once: it migrates older stores)"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ChainReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the store at {self.path}: {exc}") from None

    def length(self) -> int:
        row = self._query("SELECT MAX(seq) FROM chain")
        return 0 if row[0][0] is None else row[0][0] + 1

    def newest_first(self, *, skip: int = 0, limit: int | None = None) -> Iterator[ChainRecord]:
        """Records from the head down, after skipping the ``skip`` newest."""
        top = self.length() - 1 - skip
        left = limit
        while top >= 0 and (left is None or left > 0):
            page = 200 if left is None else min(200, left)
            rows = self._query(
                "SELECT seq, header_address, header, entry_address, entry_type FROM chain "
                "WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
                (top, page),
            )
            if not rows:
                return
            for seq, header_address, header, entry_address, entry_type in rows:
                yield ChainRecord(
                    seq, header_address, orjson.loads(header), entry_address, entry_type, self.content(entry_address)
                )
            top = rows[-1][0] - 1
            if left is not None:
                left -= len(rows)

    def content(self, address: str) -> str | None:
        found = self._query(_GET_CONTENT, (address,))
        return found[0][0] if found else None
