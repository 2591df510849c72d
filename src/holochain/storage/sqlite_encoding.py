"""A group of write batches as the one JSON text the writer process's statement takes.

The writer fans it out into the tables with one ``INSERT`` into a view whose
trigger does the work (:data:`.writer_process.WRITER_SETUP`), so the event
loop's only cost for a group is this text.  What only repeats a chain row of
the same batch (its entry's content, its header held for its entry, the
entry's ``live`` status, its header-entry) is folded into that row here.
"""

from __future__ import annotations

import orjson

from .base import STATUS_RANK, WriteBatch

__all__ = ["payload"]


def payload(batches: list[WriteBatch]) -> bytes:
    """``[batches, entries held by the group, (entry, header) pairs held by the group]``, each
    batch as ``[chain rows, contents, held headers, EAV rows, kv, CRUD facts, link facts]``:

    * a chain row ``[seq, header address, header, entry address, entry type, entry content or
      null, folded (1: its header held for its entry, 2: its header-entry), live index or null]``;
    * a CRUD fact ``[address, status rank, crud link or null, its index (0 without a link)]``;
    * a link fact ``[base, LinkAdd, type, tag, upper-case tag, target or null, index, remover or null]``.

    The entries and pairs let the trigger keep the held counts with an index probe or two each."""
    out = []
    entries: dict[str, None] = {}
    pairs: dict[tuple[str, str], None] = {}
    for b in batches:
        contents, headers, crud = b.contents, b.headers, b.crud
        chain = []
        if b.chain:
            contents, headers, crud = dict(contents), list(headers), list(crud)
            folded_contents = set()
            for r in b.chain:
                content = contents.get(r.entry_address)
                if content is not None:
                    folded_contents.add(r.entry_address)
                folded = 0
                held = (r.entry_address, r.header_address, r.header)
                if held in headers:
                    headers.remove(held)
                    folded = 1
                    entries[r.entry_address] = None
                    pairs[(r.entry_address, r.header_address)] = None
                if contents.get(r.header_address) == '{"ChainHeader":' + r.header + "}":
                    folded_contents.add(r.header_address)
                    folded |= 2
                live = None
                for i, fact in enumerate(crud):
                    if fact.address == r.entry_address and fact.status == "live" and fact.link is None:
                        live = fact.index
                        del crud[i]
                        break
                chain.append((r.seq, r.header_address, r.header, r.entry_address, r.entry_type, content, folded, live))
            for address in folded_contents:
                del contents[address]
        for entry_address, header_address, _ in headers:
            entries[entry_address] = None
            pairs[(entry_address, header_address)] = None
        out.append(
            (
                chain,
                contents,
                headers,
                [(r.entity, r.attribute, r.value, r.index) for r in b.eav],
                b.kv,
                [(f.address, STATUS_RANK.get(f.status, 0), f.link, f.index if f.link is not None else 0) for f in crud],
                [(f.base, f.link_add, f.link_type, f.tag, f.utag, f.target, f.index, f.removed_by) for f in b.links],
            )
        )
    return orjson.dumps((out, list(entries), list(pairs)))
