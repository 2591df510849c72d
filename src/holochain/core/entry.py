"""Entries: the things a source chain holds and the DHT stores.

An entry is kept in its serde JSON form, the externally tagged enum
holochain-rust writes: ``{"App": ["post", "<value JSON as a string>"]}``,
``{"AgentId": {"nick": …, "pub_sign_key": …}}``, ``{"Deletion": {…}}`` and
so on.  That one form is what zomes receive, what crosses the network, what
is stored, and (compactly serialized) what is hashed into the address, so an
:class:`Entry` only caches the text and the address next to it.

Two address rules are special: an AgentId's address is its key (not a
hash), and a ChainHeader is hashed bare, without its ``{"ChainHeader": …}``
wrapper.
"""

from __future__ import annotations

from typing import Any

from . import json as cjson
from .address import address_of
from .errors import CoreError

__all__ = [
    "Entry",
    "EntryShapeError",
    "SYS_TYPE_NAMES",
    "type_name_to_json",
    "type_json_to_name",
    "is_sys_type_name",
]

# serde variant name -> string form used in DNA entry_types, link types, query
SYS_TYPE_NAMES: dict[str, str] = {
    "Dna": "%dna",
    "AgentId": "%agent_id",
    "Deletion": "%deletion",
    "LinkAdd": "%link_add",
    "LinkRemove": "%link_remove",
    "LinkList": "%link_list",
    "ChainHeader": "%chain_header",
    "ChainMigrate": "%chain_migrate",
    "CapTokenClaim": "%cap_token_claim",
    "CapTokenGrant": "%cap_token_grant",
}
_SYS_BY_NAME = {v: k for k, v in SYS_TYPE_NAMES.items()}
_VARIANTS = frozenset(SYS_TYPE_NAMES) | {"App"}


class EntryShapeError(CoreError, ValueError):
    """JSON that does not describe an entry; the message says what is wrong."""


def type_name_to_json(name: str) -> Any:
    """String form (``post``, ``%agent_id``) to serde form (``{"App":"post"}``, ``"AgentId"``)."""
    sys = _SYS_BY_NAME.get(name)
    return sys if sys is not None else {"App": name}


def type_json_to_name(value: Any) -> str:
    """Serde form of an entry type to its string form."""
    if isinstance(value, str):
        try:
            return SYS_TYPE_NAMES[value]
        except KeyError:
            raise EntryShapeError(f"unknown entry type {value!r}") from None
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("App"), str):
        app_type: str = value["App"]
        return app_type
    raise EntryShapeError(f"invalid entry type {cjson.dumps(value)}")


def is_sys_type_name(name: str) -> bool:
    return name.startswith("%")


class Entry:
    """One entry in serde JSON form, with its canonical text and address cached."""

    __slots__ = ("value", "variant", "_content", "_address")

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        (self.variant,) = value.keys()
        self._content: str | None = None
        self._address: str | None = None

    # -- construction ----------------------------------------------------------

    @classmethod
    def app(cls, entry_type: str, value_json: str) -> Entry:
        """An app entry; ``value_json`` is the value's JSON text, as committed."""
        return cls({"App": [entry_type, value_json]})

    @classmethod
    def dna(cls, dna_json: dict[str, Any]) -> Entry:
        return cls({"Dna": dna_json})

    @classmethod
    def agent_id(cls, nick: str, pub_sign_key: str) -> Entry:
        return cls({"AgentId": {"nick": nick, "pub_sign_key": pub_sign_key}})

    @classmethod
    def deletion(cls, deleted_entry_address: str) -> Entry:
        return cls({"Deletion": {"deleted_entry_address": deleted_entry_address}})

    @classmethod
    def cap_token_grant(cls, grant_id: str, assignees: list[str] | None, functions: dict[str, list[str]]) -> Entry:
        ordered = {zome: list(functions[zome]) for zome in sorted(functions)}
        return cls({"CapTokenGrant": {"id": grant_id, "assignees": assignees, "functions": ordered}})

    @classmethod
    def cap_token_claim(cls, claim_id: str, grantor: str, token: str) -> Entry:
        return cls({"CapTokenClaim": {"id": claim_id, "grantor": grantor, "token": token}})

    @classmethod
    def chain_header(cls, header_json: dict[str, Any]) -> Entry:
        return cls({"ChainHeader": header_json})

    @classmethod
    def from_json(cls, value: Any) -> Entry:
        """Build an entry from untrusted JSON, checking its shape."""
        if not isinstance(value, dict) or len(value) != 1:
            raise EntryShapeError(
                "an entry is a JSON object with exactly one key naming its kind, "
                f'e.g. {{"App": ["post", "{{...}}"]}}; got {_preview(value)}'
            )
        ((variant, body),) = value.items()
        if variant not in _VARIANTS:
            raise EntryShapeError(f"unknown entry kind {variant!r}")
        if variant == "App":
            if (
                not isinstance(body, list)
                or len(body) != 2
                or not isinstance(body[0], str)
                or not isinstance(body[1], str)
            ):
                raise EntryShapeError(
                    f'an App entry is ["<entry type>", "<value as a JSON string>"]; got {_preview(body)}'
                )
            if not body[0] or body[0].startswith("%"):
                raise EntryShapeError(f"invalid app entry type name {body[0]!r}")
        elif variant in ("AgentId", "Deletion", "CapTokenGrant", "CapTokenClaim", "ChainHeader", "Dna"):
            if not isinstance(body, dict):
                raise EntryShapeError(f"a {variant} entry holds a JSON object; got {_preview(body)}")
        return cls(value)

    # -- derived views -----------------------------------------------------------

    @property
    def content(self) -> str:
        """The text that is hashed (and stored): canonical JSON."""
        if self._content is None:
            variant = self.variant
            body = self.value["App"] if variant == "App" else None
            if type(body) is list and len(body) == 2 and type(body[0]) is str and type(body[1]) is str:
                self._content = cjson.dumps_plain(self.value)  # ["type", "value JSON"]: strings only
            else:
                self._content = cjson.dumps(self.value["ChainHeader"] if variant == "ChainHeader" else self.value)
        return self._content

    @property
    def address(self) -> str:
        if self._address is None:
            if self.variant == "AgentId":
                self._address = self.value["AgentId"]["pub_sign_key"]
            else:
                self._address = address_of(self.content)
        return self._address

    @property
    def entry_type(self) -> Any:
        """The serde form of the type: ``{"App": "post"}`` or ``"AgentId"``."""
        if self.variant == "App":
            return {"App": self.value["App"][0]}
        return self.variant

    @property
    def type_name(self) -> str:
        """The string form of the type: ``post`` or ``%agent_id``."""
        if self.variant == "App":
            name: str = self.value["App"][0]
            return name
        return SYS_TYPE_NAMES[self.variant]

    @property
    def is_app(self) -> bool:
        return self.variant == "App"

    @property
    def app_value_json(self) -> str:
        """The JSON text of an app entry's value."""
        text: str = self.value["App"][1]
        return text

    def to_json(self) -> dict[str, Any]:
        return self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)

    def __repr__(self) -> str:
        return f"Entry({self.type_name} @ {self.address})"


def _preview(value: Any, limit: int = 80) -> str:
    try:
        text = cjson.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
