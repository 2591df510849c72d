"""DNA: parsing a ``.dna.json`` the way holochain-rust does, and its hash.

The DNA hash (``hc hash``, the conductor's ``hash =``, ``DNA_ADDRESS``) is
the address of the DNA *re-serialized through holochain-rust's structs*:
known fields in declaration order with defaults filled in, unknown keys
dropped, zomes / entry types / traits sorted, zome code re-encoded as
standard base64.  So the packaged file's formatting and extra keys (``hc
package`` writes a directory-tree dump with e.g. ``authors`` and ``dht``)
never change the hash.  The Dna *entry* on a source chain wraps the same JSON
in ``{"Dna": …}`` and therefore has a different address.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass
from typing import Any

from . import json as cjson
from .address import address_of
from .errors import CoreError

__all__ = ["Dna", "DnaError", "ZERO_UUID", "json_merge_patch"]

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_SYS_ORDER = {
    name: i
    for i, name in enumerate(
        [
            "%dna",
            "%agent_id",
            "%deletion",
            "%link_add",
            "%link_remove",
            "%link_list",
            "%chain_header",
            "%chain_migrate",
            "%cap_token_grant",
            "%cap_token_claim",
        ]
    )
}


class DnaError(CoreError, ValueError):
    """A DNA file that holochain-rust would refuse to load; the text says why."""


def _str(obj: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None and default is not None:
        raise DnaError(f"{where}: `{key}` must be a string, not null")
    if not isinstance(value, str):
        raise DnaError(f"{where}: `{key}` must be a string")
    return value


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DnaError(f"{where} must be a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise DnaError(f"{where} must be a JSON array")
    return value


def _entry_type_sort_key(name: str) -> tuple[int, str]:
    # Rust sorts these keys as EntryType values: App(..) by name, then system
    # types in enum declaration order.
    if name in _SYS_ORDER:
        return (1, f"{_SYS_ORDER[name]:02d}")
    return (0, name)


def _fn_param(value: Any, where: str) -> dict[str, str]:
    value = _obj(value, where)
    if "type" not in value or "name" not in value:
        raise DnaError(f"{where}: a parameter needs `name` and `type`")
    return {"type": _str(value, "type", where), "name": _str(value, "name", where)}


def _fn_declaration(value: Any, where: str) -> dict[str, Any]:
    value = _obj(value, where)
    for key in ("inputs", "outputs"):
        if key not in value:
            raise DnaError(f"{where}: missing field `{key}`")
    return {
        "name": _str(value, "name", where),
        "inputs": [_fn_param(p, f"{where}.inputs") for p in _list(value["inputs"], f"{where}.inputs")],
        "outputs": [_fn_param(p, f"{where}.outputs") for p in _list(value["outputs"], f"{where}.outputs")],
    }


def _link_defs(entry_type: dict[str, Any], key: str, other: str, where: str) -> list[dict[str, str]]:
    """An entry type's ``links_to`` (``other`` = ``target_type``) or ``linked_from`` (``base_type``)."""
    found = []
    for i, link in enumerate(_list(entry_type.get(key, []), f"{where}.{key}")):
        link = _obj(link, f"{where}.{key}[{i}]")
        found.append({other: _str(link, other, where), "link_type": _str(link, "link_type", where)})
    return found


def _entry_type_def(value: Any, where: str) -> dict[str, Any]:
    value = _obj(value, where)
    sharing = value.get("sharing", "public")
    if sharing not in ("public", "private", "encrypted"):
        raise DnaError(f"{where}: `sharing` must be public, private or encrypted, not {sharing!r}")
    links_to = _link_defs(value, "links_to", "target_type", where)
    linked_from = _link_defs(value, "linked_from", "base_type", where)
    return {
        "properties": _str(value, "properties", where, "{}"),
        "sharing": sharing,
        "links_to": links_to,
        "linked_from": linked_from,
    }


def _bridge(value: Any, where: str) -> dict[str, Any]:
    value = _obj(value, where)
    presence = value.get("presence")
    if presence not in ("required", "optional"):
        raise DnaError(f'{where}: `presence` must be "required" or "optional"')
    if "handle" not in value or "reference" not in value:
        raise DnaError(f"{where}: a bridge needs `handle` and `reference`")
    reference = _obj(value["reference"], f"{where}.reference")
    if "dna_address" in reference:
        ref: dict[str, Any] = {"dna_address": _str(reference, "dna_address", where)}
    elif "traits" in reference:
        traits = _obj(reference["traits"], f"{where}.reference.traits")
        ref = {
            "traits": {
                name: {
                    "functions": [
                        _fn_declaration(f, f"{where}.reference.traits.{name}")
                        for f in _list(_obj(traits[name], where).get("functions", []), where)
                    ]
                }
                for name in sorted(traits)
            }
        }
    else:
        raise DnaError(f"{where}.reference needs `dna_address` or `traits`")
    return {"presence": presence, "handle": _str(value, "handle", where), "reference": ref}


def _code(value: Any, where: str) -> tuple[dict[str, str], bytes]:
    value = _obj(value, where)
    if "code" not in value:
        raise DnaError(f"{where}: missing field `code`")
    text = value["code"]
    if not isinstance(text, str):
        raise DnaError(f"{where}.code must be a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DnaError(f"{where}.code is not valid base64: {exc}") from None
    return {"code": base64.b64encode(raw).decode("ascii")}, raw


def _zome(value: Any, name: str) -> tuple[dict[str, Any], bytes]:
    where = f"zome '{name}'"
    value = _obj(value, where)
    if "code" not in value:
        raise DnaError(f"{where}: missing field `code`")
    entry_types = _obj(value.get("entry_types", {}), f"{where}.entry_types")
    traits = _obj(value.get("traits", {}), f"{where}.traits")
    code, raw = _code(value["code"], f"{where}.code")
    zome = {
        "description": _str(value, "description", where),
        "config": {},
        "entry_types": {
            k: _entry_type_def(entry_types[k], f"{where}.entry_types.{k}")
            for k in sorted(entry_types, key=_entry_type_sort_key)
        },
        "traits": {
            k: {
                "functions": [
                    _str({"f": f}, "f", f"{where}.traits.{k}.functions")
                    for f in _list(
                        _obj(traits[k], f"{where}.traits.{k}").get("functions", []), f"{where}.traits.{k}.functions"
                    )
                ]
            }
            for k in sorted(traits)
        },
        "fn_declarations": [
            _fn_declaration(f, f"{where}.fn_declarations[{i}]")
            for i, f in enumerate(_list(value.get("fn_declarations", []), f"{where}.fn_declarations"))
        ],
        "code": code,
        "bridges": [
            _bridge(b, f"{where}.bridges[{i}]")
            for i, b in enumerate(_list(value.get("bridges", []), f"{where}.bridges"))
        ],
    }
    return zome, raw


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch (what holochain-rust applies to properties)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class Dna:
    """A parsed DNA in canonical form: ``canonical`` is what gets hashed."""

    canonical: dict[str, Any]
    code: dict[str, bytes]  # zome name -> raw code bytes

    @classmethod
    def from_json(cls, value: Any) -> Dna:
        value = _obj(value, "the DNA")
        zomes_in = _obj(value.get("zomes", {}), "`zomes`")
        zomes: dict[str, Any] = {}
        code: dict[str, bytes] = {}
        for name in sorted(zomes_in):
            zomes[name], code[name] = _zome(zomes_in[name], name)
        canonical = {
            "name": _str(value, "name", "the DNA"),
            "description": _str(value, "description", "the DNA"),
            "version": _str(value, "version", "the DNA"),
            "uuid": _str(value, "uuid", "the DNA", ZERO_UUID),
            "dna_spec_version": _str(value, "dna_spec_version", "the DNA"),
            "properties": value.get("properties", {}),
            "zomes": zomes,
        }
        empty = [name for name, raw in code.items() if not raw]
        if empty:
            raise DnaError("invalid DNA: " + ", ".join(f"Zome {n} has no code!" for n in empty))
        return cls(canonical, code)

    @classmethod
    def from_text(cls, text: str | bytes) -> Dna:
        try:
            value = cjson.loads(text)
        except cjson.JSONDecodeError as exc:
            raise DnaError(f"the DNA file is not valid JSON: {exc}") from None
        return cls.from_json(value)

    @property
    def content(self) -> str:
        return cjson.dumps(self.canonical)

    @property
    def address(self) -> str:
        """The DNA hash (``Dna::address``): the hash of the bare canonical JSON."""
        return address_of(self.content)

    @property
    def name(self) -> str:
        name: str = self.canonical["name"]
        return name

    @property
    def uuid(self) -> str:
        uuid: str = self.canonical["uuid"]
        return uuid

    @property
    def properties(self) -> Any:
        return self.canonical["properties"]

    @property
    def zomes(self) -> dict[str, Any]:
        zomes: dict[str, Any] = self.canonical["zomes"]
        return zomes

    def with_uuid(self, uuid: str) -> Dna:
        canonical = dict(self.canonical)
        canonical["uuid"] = uuid
        return Dna(canonical, self.code)

    def with_properties(self, patch: Any) -> Dna:
        canonical = dict(self.canonical)
        canonical["properties"] = json_merge_patch(canonical["properties"], patch)
        return Dna(canonical, self.code)

    def with_string_properties(self, pairs: dict[str, str]) -> Dna:
        """``hc hash -x k=v``: set string properties, making ``properties`` an object."""
        canonical = dict(self.canonical)
        props = canonical["properties"]
        props = dict(props) if isinstance(props, dict) else {}
        props.update(pairs)
        canonical["properties"] = props
        return Dna(canonical, self.code)

    def to_pretty_json(self) -> str:
        import json

        return json.dumps(self.canonical, indent=2, ensure_ascii=False)

    # -- lookups used by the instance --------------------------------------------

    def entry_type_def(self, type_name: str) -> tuple[str, dict[str, Any]] | None:
        """The zome name and definition of app entry type ``type_name``."""
        for zome_name, zome in self.zomes.items():
            definition = zome["entry_types"].get(type_name)
            if definition is not None:
                return zome_name, definition
        return None

    def public_functions(self) -> dict[str, list[str]]:
        """Functions of every zome's ``hc_public`` trait (the genesis public grant)."""
        return {
            name: list(zome["traits"]["hc_public"]["functions"])
            for name, zome in self.zomes.items()
            if "hc_public" in zome["traits"]
        }

    def has_function(self, zome: str, function: str) -> bool:
        return any(f["name"] == function for f in self.zomes[zome]["fn_declarations"])
