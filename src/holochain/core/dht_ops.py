"""DHT ops: what a committed record becomes on the DHT.

Each op is one of holochain-rust's ``EntryAspect`` gossip units, in the same
serde form (``crates/core_types/src/network/entry_aspect.rs``):

* ``{"Content": [entry, header]}`` — the entry and one header of it, held at
  the entry's address;
* ``{"Update": [entry, header]}`` — a new version, held at the *old* address
  (the header's ``link_update_delete``): status ``modified`` + crud link;
* ``{"Deletion": header}`` — held at the deleted address: status ``deleted``;
* ``{"LinkAdd": [link_data, header]}`` / ``{"LinkRemove": [[link_data,
  [link_add…]], header]}`` — held at the link's base.

An op's *basis* is the address it is held at; its *hash* (the address of
its JSON) identifies it in acks and receipts.  :func:`produce_dht_ops` is
the pure half of the ``produce_dht_ops`` workflow: which ops a record yields
(private entries, the DNA, grants and claims never leave the author; every
header is published as an entry of its own, ``ChainHeader``, under a small
header signed by the author over the header's address).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import json as cjson
from .address import address_of
from .entry import Entry, EntryShapeError
from .errors import CoreError
from .header import ChainHeader

__all__ = [
    "check_entry_shape",
    "OP_KINDS",
    "DhtOp",
    "DhtOpError",
    "produce_dht_ops",
    "header_entry_header",
    "NEVER_PUBLISHED",
]

OP_KINDS = ("Content", "Update", "Deletion", "LinkAdd", "LinkRemove")
NEVER_PUBLISHED = frozenset({"Dna", "CapTokenGrant", "CapTokenClaim"})


class DhtOpError(CoreError, ValueError):
    """JSON that is not a well-formed DHT op; the text says what is wrong."""


class DhtOp:
    """One op: ``kind``, the entry it carries (reconstructed for deletions), its header."""

    __slots__ = ("kind", "entry", "header", "_json", "_hash")

    def __init__(self, kind: str, entry: Entry, header: ChainHeader) -> None:
        self.kind = kind
        self.entry = entry
        self.header = header
        self._json: Any = None
        self._hash: str | None = None

    # -- wire form ---------------------------------------------------------------------

    def to_json(self) -> Any:
        if self._json is None:
            header = self.header.to_json()
            if self.kind == "Deletion":
                self._json = {"Deletion": header}
            elif self.kind in ("Content", "Update"):
                self._json = {self.kind: [self.entry.value, header]}
            elif self.kind == "LinkAdd":
                self._json = {"LinkAdd": [self.entry.value["LinkAdd"], header]}
            else:
                self._json = {"LinkRemove": [self.entry.value["LinkRemove"], header]}
        return self._json

    @classmethod
    def from_json(cls, value: Any) -> DhtOp:
        """Parse an op from untrusted JSON, checking its shape (not its signatures)."""
        if not isinstance(value, dict) or len(value) != 1:
            raise DhtOpError("a DHT op is an object with one key: Content, Update, Deletion, LinkAdd or LinkRemove")
        ((kind, body),) = value.items()
        if kind not in OP_KINDS:
            raise DhtOpError(f"unknown DHT op kind {kind!r}")
        try:
            if kind == "Deletion":
                header = ChainHeader.from_json(body)
                if header.link_update_delete is None:
                    raise DhtOpError("a Deletion op's header must name the deleted entry")
                entry = Entry.deletion(header.link_update_delete)
            else:
                if not isinstance(body, list) or len(body) != 2:
                    raise DhtOpError(f"a {kind} op is [entry or link data, header]")
                header = ChainHeader.from_json(body[1])
                if kind in ("Content", "Update"):
                    entry = Entry.from_json(body[0])
                elif kind == "LinkAdd":
                    entry = Entry.from_json({"LinkAdd": body[0]})
                else:
                    entry = Entry.from_json({"LinkRemove": body[0]})
                _check_link_shape(entry)
        except EntryShapeError as exc:
            raise DhtOpError(f"malformed {kind} op: {exc}") from None
        if kind == "Update" and (header.link_update_delete is None or not entry.is_app):
            raise DhtOpError("an Update op carries an app entry whose header names the old version")
        op = cls(kind, entry, header)
        op._json = value
        return op

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = address_of(cjson.dumps(self.to_json()))
        return self._hash

    @property
    def basis(self) -> str:
        """The address the op is held at."""
        if self.kind == "Content":
            return self.entry.address
        if self.kind in ("Update", "Deletion"):
            assert self.header.link_update_delete is not None
            return self.header.link_update_delete
        return self.link["base"]

    @property
    def link_data(self) -> dict[str, Any]:
        value = self.entry.value
        data: dict[str, Any] = value["LinkAdd"] if self.entry.variant == "LinkAdd" else value["LinkRemove"][0]
        return data

    @property
    def link(self) -> dict[str, str]:
        link: dict[str, str] = self.link_data["link"]
        return link

    @property
    def author(self) -> str:
        return self.header.author

    def __repr__(self) -> str:
        return f"DhtOp({self.kind} {self.entry.type_name} @ {self.basis})"


def check_entry_shape(entry: Entry) -> None:
    """Raise :class:`EntryShapeError` for an entry whose JSON is not what its kind holds."""
    Entry.from_json(entry.value)
    _check_link_shape(entry)
    if entry.variant == "Deletion" and not isinstance(entry.value["Deletion"].get("deleted_entry_address"), str):
        raise EntryShapeError("a Deletion names the deleted entry's address")


def _check_link_shape(entry: Entry) -> None:
    if entry.variant not in ("LinkAdd", "LinkRemove"):
        return
    body = entry.value[entry.variant]
    if entry.variant == "LinkRemove":
        if (
            not isinstance(body, list)
            or len(body) != 2
            or not isinstance(body[1], list)
            or not all(isinstance(a, str) for a in body[1])
        ):
            raise EntryShapeError("a LinkRemove entry is [link data, [LinkAdd address, …]]")
        body = body[0]
    if not isinstance(body, dict) or not isinstance(body.get("link"), dict):
        raise EntryShapeError("link data needs a `link` object")
    link = body["link"]
    for key in ("base", "target", "link_type", "tag"):
        if not isinstance(link.get(key), str):
            raise EntryShapeError(f"a link needs a string `{key}`")


def header_entry_header(header: ChainHeader, signature: str) -> ChainHeader:
    """The small header under which a header is published as an entry.

    It names the header's address, carries the author's signature over that
    address, links to nothing and keeps the original timestamp
    (``create_entry_with_header_for_header`` in ``crates/core/src/agent/state.rs``).
    """
    return ChainHeader("ChainHeader", header.address, [[header.author, signature]], None, None, None, header.timestamp)


def produce_dht_ops(entry: Entry, header: ChainHeader, *, public: bool, sign: Callable[[str], str]) -> list[DhtOp]:
    """The ops a committed record yields, in the order they should be published.

    ``public`` says whether an app entry's type may be shared; ``sign`` signs
    a text with the author's key (for the header-as-entry).
    """
    ops: list[DhtOp] = []
    variant = entry.variant
    publishable = variant not in NEVER_PUBLISHED and variant != "ChainHeader" and (public or not entry.is_app)
    if publishable:
        ops.append(DhtOp("Content", entry, header))
        if entry.is_app and header.link_update_delete is not None:
            ops.append(DhtOp("Update", entry, header))
        elif variant == "Deletion":
            ops.append(DhtOp("Deletion", entry, header))
        elif variant == "LinkAdd":
            ops.append(DhtOp("LinkAdd", entry, header))
        elif variant == "LinkRemove":
            ops.append(DhtOp("LinkRemove", entry, header))
    header_entry = Entry.chain_header(header.to_json())
    ops.append(DhtOp("Content", header_entry, header_entry_header(header, sign(header.address))))
    return ops
