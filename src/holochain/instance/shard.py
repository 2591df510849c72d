"""The local DHT shard: what this agent holds, and how it reads it.

The shard lives in the instance's store beside the source chain:

* ``contents``: entry JSON by address (entries, header-entries, and the ops
  held for others by op hash);
* ``headers``: the headers held per entry;
* EAV rows: ``crud-status`` / ``crud-link`` per entry; ``dht-held`` (header
  address) once the entry's content was validated *as a holder* — the
  author's own records are held locally at commit, but it serves them to
  peers only once it validated them as a holder too, as every holder does;
  per link base (entity ``links:<base>``, apart from the base's own rows so
  reading its CRUD status never reads its links) one
  ``link-add:<json [type, tag]>`` row per LinkAdd (index: its header time)
  and one ``link-remove:<json [remove address, type, tag]>`` tombstone per
  removal (index: the removal time); and the log of ops held for others
  (entity ``%held-ops``), which is what newcomers are sent.

:meth:`Shard.integrate` is the *integrate* step of holding (and what the
author does with its own records at commit).  The ``answer_*`` methods are
what peers may ask: never a private entry, only what was validated as a holder.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterator
from typing import Any

from ..core import json as cjson
from ..core.crud import VersionRecord, strongest_status
from ..core.dht_ops import DhtOp
from ..core.dna import Dna
from ..core.entry import Entry, EntryShapeError
from ..core.header import ChainHeader
from ..core.links import LinkRow, select_links
from ..core.time import parse_iso8601_ns
from ..storage.base import EavRow, Store, WriteBatch

log = logging.getLogger(__name__)

__all__ = ["Shard", "CRUD_STATUS", "CRUD_LINK", "HELD_OPS"]

CRUD_STATUS = "crud-status"
CRUD_LINK = "crud-link"
DHT_HELD = "dht-held"
LINK_ADD = "link-add:"
LINK_REMOVE = "link-remove:"
HELD_OPS = "%held-ops"
LINKS_OF = "links:"
_VERIFIED_TEXTS = 4096


class Shard:
    """The part of the DHT held here, in the store: entries with their headers, CRUD status and
    links, and the log of ops held for others.  It answers peers' queries and the cascade's local
    reads."""

    def __init__(self, store: Store, dna: Dna) -> None:
        self.store = store
        self.dna = dna
        # marks for our own records, written with the publish cursor (see mark_own)
        self._own_marks: dict[str, EavRow] = {}
        self._verified: collections.OrderedDict[str, str] = collections.OrderedDict()  # address -> text

    # -- what kind of entry may be shared ---------------------------------------------------

    def is_private(self, entry: Entry) -> bool:
        if not entry.is_app:
            return entry.variant in ("Dna", "CapTokenGrant", "CapTokenClaim")
        found = self.dna.entry_type_def(entry.type_name)
        return found is None or found[1]["sharing"] == "private"

    # -- reading -------------------------------------------------------------------------------

    def entry(self, address: str) -> Entry | None:
        """The stored entry at ``address``; a damaged one is reported, never served.

        The store keeps recently read or written texts in memory and hands out the same
        text object again: a text already found to hash to its address is not hashed again.
        """
        text = self.store.get_content(address)
        if text is None:
            return None
        if self._verified.get(address) is text:
            return Entry(cjson.loads(text))
        try:
            entry = Entry.from_json(cjson.loads(text))
        except (cjson.JSONDecodeError, EntryShapeError):
            entry = None
        if entry is None or entry.address != address:
            log.error(
                "the stored entry %s is damaged (it no longer hashes to its address); "
                "it is not served, and will be fetched from the network if asked for",
                address,
            )
            return None
        verified = self._verified
        verified[address] = text
        if len(verified) > _VERIFIED_TEXTS:
            verified.popitem(last=False)
        return entry

    def crud(self, address: str) -> tuple[str | None, str | None]:
        """``(status, crud link)`` of an address, from its EAV rows."""
        statuses = []
        link: tuple[int, str] | None = None
        for row in self.store.eav(address, "crud-"):
            if row.attribute == CRUD_STATUS:
                statuses.append(row.value)
            elif row.attribute == CRUD_LINK and (link is None or row.index < link[0]):
                link = (row.index, row.value)  # two updates of one version: the first wins
        return strongest_status(statuses), (link[1] if link else None)

    def headers_of(self, address: str) -> list[dict[str, Any]]:
        headers = [cjson.loads(h) for h in self.store.held_headers(address)]
        if len(headers) > 1:
            headers.sort(key=lambda h: (parse_iso8601_ns(h["timestamp"]), cjson.dumps(h)))
        return headers

    def record(self, address: str, with_headers: bool = True) -> VersionRecord | None:
        """The version at ``address`` if held (a held entry has a CRUD status); its headers
        only if asked for."""
        entry = self.entry(address)
        if entry is None:
            return None
        status: str | None
        if entry.variant == "ChainHeader":
            status, link = "live", None  # headers are always live
        else:
            status, link = self.crud(address)
            if status is None:
                return None  # stored (e.g. as a link's data) but not held
        return VersionRecord(
            entry.value, entry.entry_type, address, status, link, self.headers_of(address) if with_headers else []
        )

    def holds(self, address: str) -> bool:
        return self.record(address, with_headers=False) is not None

    def dht_held(self, address: str) -> bool:
        """Whether we validated ``address``'s content as a holder (and so may serve it)."""
        return address in self._own_marks or bool(self.store.eav(address, DHT_HELD))

    def holds_op(self, op_hash: str) -> bool:
        return self.store.get_content(op_hash) is not None

    def link_rows(self, base: str) -> list[LinkRow]:
        rows = []
        for row in self.store.eav(LINKS_OF + base, "link-"):
            if row.attribute.startswith(LINK_ADD):
                link_type, tag = cjson.loads(row.attribute[len(LINK_ADD) :])
                rows.append(LinkRow(row.value, link_type, tag, row.index))
            elif row.attribute.startswith(LINK_REMOVE):
                remover, link_type, tag = cjson.loads(row.attribute[len(LINK_REMOVE) :])
                rows.append(LinkRow(row.value, link_type, tag, row.index, remover))
        return rows

    def link_target(self, link_add: str) -> str | None:
        entry = self.entry(link_add)
        if entry is None or entry.variant != "LinkAdd":
            return None
        return entry.value["LinkAdd"]["link"]["target"]

    def links(self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]) -> list[dict[str, Any]]:
        """``get_links`` over this shard: ``[{address, headers, tag, status, link_add}, …]``."""
        pagination = options.get("pagination")
        from_ns = None
        if pagination is not None and "Time" in pagination:
            from_ns = parse_iso8601_ns(pagination["Time"]["from_time"])
        answers = select_links(
            self.link_rows(base),
            link_type,
            tag,
            options["status_request"],
            pagination,
            options.get("sort_order"),
            from_ns,
        )
        out = []
        for answer in answers:
            target = self.link_target(answer.link_add)
            if target is None:
                continue
            out.append(
                {
                    "address": target,
                    "headers": self.headers_of(answer.link_add) if options.get("headers") else [],
                    "tag": answer.tag,
                    "status": answer.status,
                    "link_add": answer.link_add,
                }
            )
        return out

    def held_ops(self) -> Iterator[Any]:
        for row in self.store.eav(HELD_OPS, "op"):
            text = self.store.get_content(row.value)
            if text is not None:
                yield cjson.loads(text)

    # -- what peers may ask ------------------------------------------------------------------------

    def answer_entry(self, address: str) -> dict[str, Any] | None:
        record = self.record(address)
        if record is None or self.is_private(Entry(record.entry)) or not self.dht_held(address):
            return None
        return {
            "address": record.address,
            "entry": record.entry,
            "entry_type": record.entry_type,
            "crud_status": record.crud_status,
            "crud_link": record.crud_link,
            "headers": record.headers,
        }

    def answer_links(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any], count: bool
    ) -> dict[str, Any] | None:
        if not self.holds(base) or not self.dht_held(base):
            return None
        links = self.links(base, link_type, tag, options)
        return {"count": len(links)} if count else {"links": links}

    # -- writing ------------------------------------------------------------------------------------

    def integrate(self, op: DhtOp, batch: WriteBatch, now_ns: int, *, log_op: bool) -> None:
        """Record what ``op`` means in this shard (all of it in ``batch``)."""
        entry, header = op.entry, op.header
        if op.kind == "Content":
            self._hold_content(entry, header, batch, now_ns)
        elif op.kind == "Update":
            old = op.basis
            batch.eav.append(EavRow(old, CRUD_STATUS, "modified", now_ns))
            batch.eav.append(EavRow(old, CRUD_LINK, entry.address, now_ns))
        elif op.kind == "Deletion":
            batch.eav.append(EavRow(op.basis, CRUD_STATUS, "deleted", now_ns))
        elif op.kind == "LinkAdd":
            link = op.link
            self._keep_link_data(entry, header, batch)
            batch.eav.append(
                EavRow(
                    LINKS_OF + link["base"],
                    LINK_ADD + cjson.dumps([link["link_type"], link["tag"]]),
                    entry.address,
                    parse_iso8601_ns(header.timestamp),
                )
            )
        elif op.kind == "LinkRemove":
            link = op.link
            self._keep_link_data(entry, header, batch)
            index = parse_iso8601_ns(header.timestamp)
            attribute = LINK_REMOVE + cjson.dumps([entry.address, link["link_type"], link["tag"]])
            for link_add in entry.value["LinkRemove"][1]:
                batch.eav.append(EavRow(LINKS_OF + link["base"], attribute, link_add, index))
        if log_op:
            batch.contents[op.hash] = cjson.dumps(op.to_json())
            batch.eav.append(EavRow(HELD_OPS, "op", op.hash, now_ns))
            if op.kind == "Content":
                batch.eav.append(EavRow(entry.address, DHT_HELD, header.address, 0))

    def mark_own(self, entry: Entry, header: ChainHeader) -> None:
        """Mark one of our own entries (held since its commit) as validated as a holder.

        The mark is kept in memory until :meth:`take_own_marks` adds it to the
        publish cursor's write: if it is lost in a crash, publishing resumes
        before it and marks it again.
        """
        self._own_marks[entry.address] = EavRow(entry.address, DHT_HELD, header.address, 0)

    def mark_own_header(self, header: ChainHeader) -> None:
        self._own_marks[header.address] = EavRow(header.address, DHT_HELD, header.address, 0)

    def take_own_marks(self, batch: WriteBatch) -> None:
        batch.eav.extend(self._own_marks.values())
        self._own_marks.clear()

    def _hold_content(self, entry: Entry, header: ChainHeader, batch: WriteBatch, now_ns: int) -> None:
        batch.contents[entry.address] = entry.content if entry.variant != "ChainHeader" else cjson.dumps(entry.value)
        batch.headers.append((entry.address, header.address, header.content))
        batch.eav.append(EavRow(entry.address, CRUD_STATUS, "live", now_ns))

    def _keep_link_data(self, entry: Entry, header: ChainHeader, batch: WriteBatch) -> None:
        """The LinkAdd/LinkRemove entry and header, so the base's holders can answer fully."""
        batch.contents[entry.address] = entry.content
        batch.headers.append((entry.address, header.address, header.content))
