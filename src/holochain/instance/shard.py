"""The local DHT shard: what this agent holds, and how it reads it.

The shard lives in the instance's store beside the source chain:

* ``contents``: entry JSON by address (entries, header-entries, and the ops
  held for others by op hash);
* ``headers``: the headers held per entry;
* CRUD state per address (the store merges each ``live`` / ``modified`` /
  ``deleted`` fact into one current state: strongest status, earliest crud
  link), so reading it costs the same however often the entry was committed;
* per link base, one current state per LinkAdd (the add, index its header
  time, or the tombstone that won, index the removal time), which the store
  keeps ordered and counted per type and tag;
* EAV rows: ``dht-held`` (header address) once the entry's content was
  validated *as a holder* — the author's own records are held locally at
  commit, but it serves them to peers only once it validated them as a holder
  too, as every holder does; and the log of ops held for others (entity
  ``%held-ops``), which is what newcomers are sent.

A removal names LinkAdds of its own type and tag (``remove_link`` finds them
so); the state of a LinkAdd is kept once, so a tombstone whose type or tag
differed from its add's would count under its own.

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
from ..core.crud import VersionRecord
from ..core.dht_ops import DhtOp
from ..core.dna import Dna
from ..core.entry import Entry, EntryShapeError
from ..core.header import ChainHeader
from ..core.time import parse_iso8601_ns
from ..storage.base import CrudFact, EavRow, LinkFact, Store, WriteBatch

log = logging.getLogger(__name__)

__all__ = ["Shard", "CRUD_STATUS", "CRUD_LINK", "HELD_OPS"]

CRUD_STATUS = "crud-status"  # the EAV attribute names of schema 2, kept for what names them
CRUD_LINK = "crud-link"
DHT_HELD = "dht-held"
HELD_OPS = "%held-ops"
_VERIFIED_TEXTS = 4096
_NEWER_VERSIONS = 4096


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
        # address -> a later held version on its crud-link path (see newer_version)
        self._newer: collections.OrderedDict[str, str] = collections.OrderedDict()

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
        """``(status, crud link)`` of an address: its CRUD state, one read whatever its history."""
        state = self.store.crud(address)
        return (None, None) if state is None else (state.status, state.link)

    def newer_version(self, address: str) -> str:
        """A later held version of ``address`` on its crud-link path (``address`` if none known).

        Walking to the latest version from here gives what walking from ``address`` gives:
        every version passed on the way was held, and updated (so not deleted).  What would
        change such a path — a second update of a version already updated (the earliest
        update wins, and may be the new one), or a deletion of one — forgets every path
        (:meth:`_crud_changed`); updating the newest version only makes the path longer.
        """
        return self._newer.get(address, address)

    def remember_newer(self, address: str, newer: str) -> None:
        if newer == address:
            return
        memo = self._newer
        memo[address] = newer
        memo.move_to_end(address)
        if len(memo) > _NEWER_VERSIONS:
            memo.popitem(last=False)

    def _crud_changed(self, address: str) -> None:
        """A new update or deletion of ``address``: forget the paths it may be in the middle of."""
        if self._newer:
            state = self.store.crud(address)
            if state is not None and state.link is not None:
                self._newer.clear()

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
        return address in self._own_marks or self.store.eav_any(address, DHT_HELD)

    def holds_op(self, op_hash: str) -> bool:
        return self.store.get_content(op_hash) is not None

    def links(self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]) -> list[dict[str, Any]]:
        """``get_links`` over this shard: ``[{address, headers, tag, status, link_add}, …]``.

        holochain-rust's ``DhtStore::get_links``: type matched exactly and tag ignoring case;
        ordered by index (newest first unless ``Ascending``); paginated *before* the status
        filter.  The store keeps the states ordered, so a page reads only that page.
        """
        states = self._page(base, link_type, tag, options)
        wanted = options["status_request"]
        with_headers = options.get("headers")
        out = []
        for state in states:
            status = "deleted" if state.removed_by is not None else "live"
            if (wanted == "Live" and status != "live") or (wanted == "Deleted" and status != "deleted"):
                continue
            if state.target is None:
                continue  # only its tombstone is held
            out.append(
                {
                    "address": state.target,
                    "headers": self.headers_of(state.link_add) if with_headers else [],
                    "tag": state.tag,
                    "status": status,
                    "link_add": state.link_add,
                }
            )
        return out

    def _page(self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]) -> list[LinkFact]:
        store = self.store
        descending = options.get("sort_order") != "Ascending"
        pagination = options.get("pagination")
        if pagination is None:
            return store.link_page(base, link_type, tag, descending=descending)
        ((kind, body),) = pagination.items()
        if kind == "Size":
            size = body["page_size"]
            return store.link_page(
                base, link_type, tag, descending=descending, offset=size * body["page_number"], limit=size
            )
        from_ns = parse_iso8601_ns(body["from_time"])
        if not descending:
            return store.link_page(base, link_type, tag, descending=False, limit=body["limit"], after_index=from_ns)
        # newest first, holochain-rust skips from the front while from_time >= index: nothing
        # is skipped unless the newest is not after from_time, and then everything is
        newest = store.link_page(base, link_type, tag, limit=1)
        if not newest or newest[0].index <= from_ns:
            return []
        return store.link_page(base, link_type, tag, limit=body["limit"])

    def link_count(self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]) -> int:
        """``get_links_count``: counted by the store unless a page is asked for."""
        if options.get("pagination") is not None:
            return len(self.links(base, link_type, tag, options))
        live, deleted = self.store.link_count(base, link_type, tag)
        wanted = options["status_request"]
        return live if wanted == "Live" else deleted if wanted == "Deleted" else live + deleted

    def live_links_to(self, base: str, target: str, link_type: str, tag: str) -> list[str]:
        """The LinkAdds of live links base→target of this type and tag (matched as ``get_links`` does)."""
        utag = tag.upper()
        found = [
            s
            for s in self.store.links_to(base, target)
            if s.removed_by is None and s.link_type == link_type and s.utag == utag
        ]
        found.sort(key=lambda s: (s.index, s.link_add), reverse=True)  # get_links' order
        return [s.link_add for s in found]

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
            self._crud_changed(op.basis)
            batch.crud.append(CrudFact(op.basis, "modified", entry.address, now_ns))
        elif op.kind == "Deletion":
            self._crud_changed(op.basis)
            batch.crud.append(CrudFact(op.basis, "deleted", None, now_ns))
        elif op.kind == "LinkAdd":
            link = op.link
            self._keep_link_data(entry, header, batch)
            batch.links.append(
                LinkFact(
                    link["base"],
                    entry.address,
                    link["link_type"],
                    link["tag"],
                    link["target"],
                    parse_iso8601_ns(header.timestamp),
                )
            )
        elif op.kind == "LinkRemove":
            link = op.link
            self._keep_link_data(entry, header, batch)
            index = parse_iso8601_ns(header.timestamp)
            for link_add in entry.value["LinkRemove"][1]:
                batch.links.append(
                    LinkFact(link["base"], link_add, link["link_type"], link["tag"], None, index, entry.address)
                )
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
        batch.crud.append(CrudFact(entry.address, "live", None, now_ns))

    def _keep_link_data(self, entry: Entry, header: ChainHeader, batch: WriteBatch) -> None:
        """The LinkAdd/LinkRemove entry and header, so the base's holders can answer fully."""
        batch.contents[entry.address] = entry.content
        batch.headers.append((entry.address, header.address, header.content))
