"""The SQLite store's tables, and how older files are brought up to them.

**Schema 2** stores a record as one chain row: the rows that only repeat it
(its entry's content, its header held for its entry, the entry's ``live``
status, its header as a header-entry) are folded into it (``content``,
``folded``, ``live``) and read back from it.  Rows that are not folded go to
``contents``, ``headers`` (rowid tables: appended, only their address indexes
take random inserts), ``eav`` and ``kv``; held counts are kept in a one-row
table.

**Schema 3** keeps state where schema 2 kept a log that every read went
through: ``crud`` holds one row per address (strongest status as a rank,
the earliest update's crud link; see :func:`.base.merge_crud`) instead of a
``crud-status`` / ``crud-link`` EAV row per fact, and ``links`` one row per
base and LinkAdd (the add, or the tombstone that won: :func:`.base.merge_link`),
indexed by order per type and tag and by target, with ``link_counts`` kept
by its triggers, instead of a ``link-add:`` / ``link-remove:`` EAV row per
fact.  An own record's ``live`` status stays folded in its chain row.

Older files are migrated in place when opened, in one transaction: 1 → 2 → 3.
The 2 → 3 step moves every CRUD and link fact into its state (what ``get_entry``
and ``get_links`` read from the facts is kept whole: the status, the crud link,
each link's current row and target); EAV rows it does not understand (a status
core never writes) stay where they are.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from .base import StorageError

__all__ = ["SCHEMA_VERSION", "DB_FILENAME", "init_schema"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
DB_FILENAME = "instance.sqlite3"

_SCHEMA_2 = """
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

# a link state counts, once its LinkAdd is held, under four selections: kind 0 its type and
# tag, 1 its type (any tag), 2 its tag (any type), 3 any ('' where a selection is "any")
_COUNT = """
    INSERT INTO link_counts (base, kind, link_type, utag, live, deleted)
        SELECT {row}.base, k.kind, iif(k.kind < 2, {row}.link_type, ''), iif(k.kind IN (0, 2), {row}.utag, ''),
               {sign} * ({row}.removed_by IS NULL), {sign} * ({row}.removed_by IS NOT NULL)
        FROM (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) AS k
        WHERE {row}.target IS NOT NULL
        ON CONFLICT (base, kind, link_type, utag) DO UPDATE SET
            live = live + excluded.live, deleted = deleted + excluded.deleted;
"""
_SCHEMA_3_TABLES = (
    """
CREATE TABLE crud (
    address TEXT PRIMARY KEY,
    rank INTEGER NOT NULL,     -- strongest status: 0 none, 1 live, 2 modified, 3 deleted
    link TEXT,                 -- crud link of the earliest update
    link_idx INTEGER NOT NULL  -- its index (0 without a link)
) WITHOUT ROWID;
CREATE TABLE links (
    base TEXT NOT NULL,
    link_add TEXT NOT NULL,
    link_type TEXT NOT NULL,
    tag TEXT NOT NULL,
    utag TEXT NOT NULL,        -- the tag in upper case (tags match ignoring case)
    target TEXT,               -- NULL while only a tombstone of the LinkAdd is held
    idx INTEGER NOT NULL,      -- the add's header time, or the winning tombstone's
    removed_by TEXT,           -- the LinkRemove of the winning tombstone
    PRIMARY KEY (base, link_add)
) WITHOUT ROWID;
CREATE INDEX links_order ON links (base, idx, link_add);
CREATE INDEX links_type ON links (base, link_type, idx, link_add);
CREATE INDEX links_tag ON links (base, link_type, utag, idx, link_add);
CREATE INDEX links_target ON links (base, target);
CREATE TABLE link_counts (
    base TEXT NOT NULL,
    kind INTEGER NOT NULL,
    link_type TEXT NOT NULL,
    utag TEXT NOT NULL,
    live INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    PRIMARY KEY (base, kind, link_type, utag)
) WITHOUT ROWID;
CREATE TRIGGER links_added AFTER INSERT ON links BEGIN"""
    + _COUNT.format(row="NEW", sign=1)
    + """END;
CREATE TRIGGER links_changed AFTER UPDATE ON links BEGIN"""
    + _COUNT.format(row="OLD", sign=-1)
    + _COUNT.format(row="NEW", sign=1)
    + """END;
"""
)
SCHEMA = _SCHEMA_2 + _SCHEMA_3_TABLES

COUNT_HELD = """
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
    + _SCHEMA_2.split("CREATE TABLE eav")[0]
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
    + COUNT_HELD
    + """
PRAGMA user_version = 2;
"""
)

# Schema 2 -> 3: every CRUD and link EAV fact into its state.  py_upper is Python's str.upper
# (SQLite's upper() knows only ASCII), registered on the migrating connection.
_RANK = "CASE value WHEN 'live' THEN 1 WHEN 'modified' THEN 2 WHEN 'deleted' THEN 3 ELSE 0 END"
_FIRST_LINK = (
    "(SELECT {col} FROM eav AS l WHERE l.entity = e.entity AND l.attribute = 'crud-link' ORDER BY idx, value LIMIT 1)"
)
_LINK_CONTENT = (
    "COALESCE((SELECT content FROM contents WHERE address = e.value), "
    "(SELECT content FROM chain WHERE entry_address = e.value AND content IS NOT NULL LIMIT 1))"
)
_MIGRATE_FROM_2 = (
    _SCHEMA_3_TABLES
    + f"""
INSERT INTO crud (address, rank, link, link_idx)
    SELECT entity,
           MAX(iif(attribute = 'crud-status', {_RANK}, 0)),
           {_FIRST_LINK.format(col="value")},
           COALESCE({_FIRST_LINK.format(col="idx")}, 0)
    FROM eav AS e
    WHERE attribute = 'crud-link' OR (attribute = 'crud-status' AND value IN ('live', 'modified', 'deleted'))
    GROUP BY entity;
DELETE FROM eav WHERE attribute = 'crud-link' OR (attribute = 'crud-status' AND value IN ('live', 'modified', 'deleted'));
INSERT OR IGNORE INTO links (base, link_add, link_type, tag, utag, target, idx, removed_by)
    SELECT substr(entity, 7), value, json_extract(substr(attribute, 10), '$[0]'),
           json_extract(substr(attribute, 10), '$[1]'), py_upper(json_extract(substr(attribute, 10), '$[1]')),
           json_extract({_LINK_CONTENT}, '$.LinkAdd.link.target'), idx, NULL
    FROM eav AS e WHERE entity >= 'links:' AND entity < 'links;' AND attribute >= 'link-add:' AND attribute < 'link-add;'
    ORDER BY entity, idx, value;
INSERT INTO links (base, link_add, link_type, tag, utag, target, idx, removed_by)
    SELECT substr(entity, 7), value, json_extract(substr(attribute, 13), '$[1]'),
           json_extract(substr(attribute, 13), '$[2]'), py_upper(json_extract(substr(attribute, 13), '$[2]')),
           NULL, idx, json_extract(substr(attribute, 13), '$[0]')
    FROM eav AS e
    WHERE entity >= 'links:' AND entity < 'links;' AND attribute >= 'link-remove:' AND attribute < 'link-remove;'
    ORDER BY entity, idx, value
    ON CONFLICT (base, link_add) DO UPDATE SET
        link_type = iif(removed_by IS NULL OR excluded.idx > idx, excluded.link_type, link_type),
        tag = iif(removed_by IS NULL OR excluded.idx > idx, excluded.tag, tag),
        utag = iif(removed_by IS NULL OR excluded.idx > idx, excluded.utag, utag),
        removed_by = iif(removed_by IS NULL OR excluded.idx > idx, excluded.removed_by, removed_by),
        idx = iif(removed_by IS NULL OR excluded.idx > idx, excluded.idx, idx);
DELETE FROM eav WHERE entity >= 'links:' AND entity < 'links;'
    AND ((attribute >= 'link-add:' AND attribute < 'link-add;') OR (attribute >= 'link-remove:' AND attribute < 'link-remove;'));
PRAGMA user_version = 3;
"""
)


def _upper(text: str | None) -> str | None:
    return None if text is None else text.upper()


def init_schema(
    conn: sqlite3.Connection, label: str, path: Path, errors: tuple[type[Exception], ...] = (sqlite3.Error,)
) -> None:
    """Create the tables of a new file, migrate an older one, refuse a newer one; check it.
    ``errors``: what the connection raises (SQLCipher's binding has its own classes)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE name='chain'").fetchone():
        version = 1  # schema 1 created its tables before it set its version
    if version == 0:
        conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {COUNT_HELD} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
    elif version in (1, 2):
        log.info("storage of %s: migrating from schema %d to %d", label, version, SCHEMA_VERSION)
        conn.create_function("py_upper", 1, _upper, deterministic=True)
        steps = (_MIGRATE_FROM_1 if version == 1 else "") + _MIGRATE_FROM_2
        try:
            conn.executescript(f"BEGIN IMMEDIATE; {steps} COMMIT;")
        except errors:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    elif version != SCHEMA_VERSION:
        raise StorageError(
            f"storage of {label} at {path} has schema version {version}; this conductor "
            f"understands versions 1 to {SCHEMA_VERSION} (a newer conductor wrote it?)"
        )
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise StorageError(f"storage of {label} at {path} is damaged: {result}")
    try:
        conn.execute("SELECT json_extract('[1]', '$[0]')").fetchone()
    except errors:
        raise StorageError(
            f"storage of {label}: this SQLite ({sqlite3.sqlite_version}) lacks the "
            "JSON functions the store needs (SQLite 3.38+, or an older one built with JSON1)"
        ) from None
