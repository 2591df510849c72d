"""A group of write batches as the one JSON text the writer process's statement takes.

The writer fans it out into the tables with one ``INSERT`` into a view whose
trigger does the work (:data:`.writer_process.WRITER_SETUP`), so the event
loop's only cost for a group is this text.  What only repeats a chain row of
the same batch (its entry's content, its header held for its entry, the
entry's ``live`` status, its header-entry) is folded into that row here.
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import STATUS_RANK, WriteBatch

__all__ = ["payload", "COLUMNS"]


COLUMNS = ("chain", "contents", "headers", "eav", "kv", "crud", "links", "entries", "pairs")


def payload(batches: list[WriteBatch]) -> bytes:
    """The group as one JSON text per column of the writer's view (:data:`COLUMNS`), joined by
    newlines (which JSON text never holds raw), so each statement of the trigger parses only
    its own rows:

    * ``chain``: ``[seq, header address, header, entry address, entry type, entry content or
      null, folded (1: its header held for its entry, 2: its header-entry), live index or null]``;
    * ``contents`` and ``kv``: objects (a later batch's kv value wins, as it would in order);
    * ``headers``: ``[entry, header address, header]``; ``eav``: ``[entity, attribute, value, index]``;
    * ``crud``: ``[address, status rank, crud link or null, its index (0 without a link)]``;
    * ``links``: ``[base, LinkAdd, type, tag, upper-case tag, target or null, index, remover or null]``;
    * ``entries`` and ``pairs``: the entries and (entry, header) pairs the group holds headers
      of, so the trigger keeps the held counts with an index probe or two each.
    """
    chain: list[Any] = []
    contents: dict[str, str] = {}
    headers: list[Any] = []
    eav: list[Any] = []
    kv: dict[str, str] = {}
    crud: list[Any] = []
    links: list[Any] = []
    entries: dict[str, None] = {}
    pairs: dict[tuple[str, str], None] = {}
    for b in batches:
        batch_contents, batch_headers, batch_crud = b.contents, b.headers, b.crud
        if b.chain:
            batch_contents, batch_headers, batch_crud = dict(batch_contents), list(batch_headers), list(batch_crud)
            folded_contents = set()
            for r in b.chain:
                content = batch_contents.get(r.entry_address)
                if content is not None:
                    folded_contents.add(r.entry_address)
                folded = 0
                held = (r.entry_address, r.header_address, r.header)
                if held in batch_headers:
                    batch_headers.remove(held)
                    folded = 1
                    entries[r.entry_address] = None
                    pairs[(r.entry_address, r.header_address)] = None
                if batch_contents.get(r.header_address) == '{"ChainHeader":' + r.header + "}":
                    folded_contents.add(r.header_address)
                    folded |= 2
                live = None
                for i, fact in enumerate(batch_crud):
                    if fact.address == r.entry_address and fact.status == "live" and fact.link is None:
                        live = fact.index
                        del batch_crud[i]
                        break
                chain.append((r.seq, r.header_address, r.header, r.entry_address, r.entry_type, content, folded, live))
            for address in folded_contents:
                del batch_contents[address]
        for address, text in batch_contents.items():
            contents.setdefault(address, text)
        for entry_address, header_address, _ in batch_headers:
            entries[entry_address] = None
            pairs[(entry_address, header_address)] = None
        headers += batch_headers
        eav += [(r.entity, r.attribute, r.value, r.index) for r in b.eav]
        kv.update(b.kv)
        crud += [
            (f.address, STATUS_RANK.get(f.status, 0), f.link, f.index if f.link is not None else 0) for f in batch_crud
        ]
        links += [(f.base, f.link_add, f.link_type, f.tag, f.utag, f.target, f.index, f.removed_by) for f in b.links]
    dumps = orjson.dumps
    return b"\n".join(
        (
            dumps(chain),
            dumps(contents),
            dumps(headers),
            dumps(eav),
            dumps(kv),
            dumps(crud),
            dumps(links),
            dumps(list(entries)),
            dumps(list(pairs)),
        )
    )
