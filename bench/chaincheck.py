"""Is the source chain stored in an instance's SQLite file one linear chain?

Read after the conductor has stopped, straight from the file (no conductor
code involved beyond the address function): records are numbered 0..n-1
without gaps, each header links to the header before it, each header hashes
to its recorded address, and no header address repeats.  Also counts the
records of each entry type, so the caller can check that every commit it was
told about is there exactly once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from holochain.core.address import address_of

__all__ = ["check_chain"]


def check_chain(db_path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, header_address, header, entry_type FROM chain ORDER BY seq")
        problems: list[str] = []
        types: Counter[str] = Counter()
        seen: set[str] = set()
        previous: str | None = None
        length = 0
        for seq, header_address, header, entry_type in rows:
            if seq != length:
                problems.append(f"record {length} missing (next is {seq})")
            parsed = orjson.loads(header)
            if parsed.get("link") != previous:
                problems.append(f"record {seq} links to {parsed.get('link')}, not to {previous}")
            if address_of(header) != header_address:
                problems.append(f"record {seq}: header does not hash to {header_address}")
            if header_address in seen:
                problems.append(f"record {seq}: header {header_address} repeats")
            seen.add(header_address)
            types[entry_type] += 1
            previous = header_address
            length = seq + 1
            if len(problems) > 20:
                break
        return {"length": length, "linear": not problems, "problems": problems[:20], "entry_types": dict(types)}
    finally:
        conn.close()
