"""Chain headers: what links one source-chain record to the one before it.

Field order is serialization order, and the address is the hash of the bare
header JSON.  A header carries provenances ``[source, signature]`` whose
signatures cover the *entry address*; the header itself is never signed, so
anything that must not be forged (links, timestamp) is protected by being
hashed into the next header and by holders re-deriving addresses.
"""

from __future__ import annotations

from typing import Any

from . import json as cjson
from .address import address_of
from .entry import EntryShapeError

__all__ = ["ChainHeader"]

_FIELDS = (
    "entry_type",
    "entry_address",
    "provenances",
    "link",
    "link_same_type",
    "link_update_delete",
    "timestamp",
)


class ChainHeader:
    """A source-chain header: which entry, who signed it, the previous header (``link``), the
    previous one of the same type, what it updates or deletes, and when.  Its JSON text is what is
    hashed into its address, so it is kept as holochain-rust writes it."""

    __slots__ = (*_FIELDS, "_content", "_address")

    def __init__(
        self,
        entry_type: Any,
        entry_address: str,
        provenances: list[list[str]],
        link: str | None,
        link_same_type: str | None,
        link_update_delete: str | None,
        timestamp: str,
    ) -> None:
        self.entry_type = entry_type
        self.entry_address = entry_address
        self.provenances = provenances
        self.link = link
        self.link_same_type = link_same_type
        self.link_update_delete = link_update_delete
        self.timestamp = timestamp
        self._content: str | None = None
        self._address: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "entry_type": self.entry_type,
            "entry_address": self.entry_address,
            "provenances": self.provenances,
            "link": self.link,
            "link_same_type": self.link_same_type,
            "link_update_delete": self.link_update_delete,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_json(cls, value: Any) -> ChainHeader:
        if not isinstance(value, dict):
            raise EntryShapeError("a chain header is a JSON object")
        missing = [f for f in _FIELDS if f not in value]
        if missing:
            raise EntryShapeError(f"chain header is missing {', '.join(missing)}")
        provenances = value["provenances"]
        if not isinstance(provenances, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in provenances
        ):
            raise EntryShapeError("chain header provenances must be [[source, signature], …]")
        for key in ("entry_address", "timestamp"):
            if not isinstance(value[key], str):
                raise EntryShapeError(f"chain header {key} must be a string")
        for key in ("link", "link_same_type", "link_update_delete"):
            if value[key] is not None and not isinstance(value[key], str):
                raise EntryShapeError(f"chain header {key} must be an address or null")
        return cls(*(value[f] for f in _FIELDS))

    @property
    def content(self) -> str:
        if self._content is None:
            et = self.entry_type
            if type(et) is str or (type(et) is dict and all(type(v) is str for v in et.values())):
                # every other field is a string, null or a list of strings (from_json checks it)
                self._content = cjson.dumps_plain(self.to_json())
            else:
                self._content = cjson.dumps(self.to_json())
        return self._content

    @property
    def address(self) -> str:
        if self._address is None:
            self._address = address_of(self.content)
        return self._address

    @property
    def author(self) -> str:
        """The source of the last provenance: the agent whose chain this is."""
        return self.provenances[-1][0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChainHeader) and other.content == self.content

    def __hash__(self) -> int:
        return hash(self.content)

    def __repr__(self) -> str:
        return f"ChainHeader({self.entry_address} @ {self.timestamp})"
