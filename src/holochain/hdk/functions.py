"""The zome API: functions zome code calls while it runs.

Each function mirrors the Rust HDK function of the same name (``hdk::…`` in
holochain-rust 0.0.52): same inputs, same results, and failures raised as
:class:`ZomeApiError` carrying exactly what a Rust zome would get, so
``raise``-ing it on, or letting it propagate out of a zome function, gives
clients holochain-rust's ``{"Err": …}``.  Results are the JSON the Rust types
serialize to (``GetEntryResult``, ``GetLinksResult`` …) and entries are
:class:`~holochain.core.entry.Entry` objects.

Where Rust takes a ``LinkMatch``, pass ``None`` for ``Any`` and a string for
``Exactly``.  Timeouts are in milliseconds, as in Rust.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Iterable
from typing import Any

from ..core import json as cjson
from ..core.entry import Entry
from ..core.errors import ZomeApiError
from ..core.header import ChainHeader
from ..core.time import format_ns
from .host import current_host
from .zome import convert_argument, to_json_value

__all__ = [
    # entries
    "app_entry",
    "commit_entry",
    "commit_entry_result",
    "update_entry",
    "remove_entry",
    "update_agent",
    "get_entry",
    "get_entry_initial",
    "get_entry_history",
    "get_entry_result",
    "entry_address",
    "entry_type_properties",
    # links
    "link_entries",
    "remove_link",
    "get_links",
    "get_links_with_options",
    "get_links_count",
    "get_links_count_with_options",
    "get_links_result",
    "get_links_and_load",
    "get_links_and_load_type",
    # chain
    "query",
    "query_result",
    "commit_capability_grant",
    "commit_capability_claim",
    # crypto and keystore
    "sign",
    "sign_one_time",
    "verify_signature",
    "encrypt",
    "decrypt",
    "keystore_list",
    "keystore_new_random",
    "keystore_derive_seed",
    "keystore_derive_key",
    "keystore_sign",
    "keystore_get_public_key",
    # calls, messages, misc
    "call",
    "send",
    "emit_signal",
    "property",
    "debug",
    "sleep",
    "version",
    "version_hash",
    "start_bundle",
    "close_bundle",
    # option and validation types
    "GetEntryOptions",
    "GetLinksOptions",
    "SizePagination",
    "TimePagination",
    "EntryValidation",
    "LinkValidation",
    "ValidationData",
    "ChainHeader",
]


# -- entries ---------------------------------------------------------------------------------------


def app_entry(entry_type: str, value: Any) -> Entry:
    """An App entry of ``entry_type`` whose value is ``value`` serialized canonically."""
    return Entry.app(entry_type, cjson.dumps(to_json_value(value)))


def _as_entry(value: Any) -> Entry:
    if isinstance(value, Entry):
        return value
    type_name = getattr(type(value), "__hc_entry_type__", None)
    if type_name is None:
        raise TypeError(
            f"commit a registered entry type (decorated with @zome.entry_type), an "
            f"hdk.app_entry(type, value), or an Entry; got {type(value).__name__}"
        )
    return app_entry(type_name, value)


def commit_entry(entry: Any) -> str:
    """Commit an entry to the agent's source chain; returns its address."""
    return current_host().commit_entry(_as_entry(entry), [])


def commit_entry_result(entry: Any, provenance: list[list[str]] | None = None) -> dict[str, str]:
    """Commit with extra provenances (counter-signatures); returns ``{"address": …}``."""
    return {"address": current_host().commit_entry(_as_entry(entry), list(provenance or []))}


def update_entry(new_entry: Any, address: str) -> str:
    """Commit a new version of the entry at ``address`` (its latest version); returns the new address."""
    return current_host().update_entry(_as_entry(new_entry), address)


def remove_entry(address: str) -> str:
    """Mark the latest version of ``address`` deleted; returns the Deletion entry's address."""
    return current_host().remove_entry(address)


def update_agent() -> str:
    """Not implemented in holochain-rust either."""
    raise ZomeApiError("FunctionNotImplemented")


@dataclasses.dataclass
class GetEntryOptions:
    """``GetEntryOptions``: which version (Latest, Initial, All), whether entries and headers come
    back, and how long to wait (ms)."""

    status_request: str = "Latest"  # Latest | Initial | All
    entry: bool = True
    headers: bool = False
    timeout: int = 60000  # milliseconds

    def to_json(self) -> dict[str, Any]:
        if self.status_request not in ("Latest", "Initial", "All"):
            raise ValueError("status_request is Latest, Initial or All")
        return {
            "status_request": self.status_request,
            "entry": self.entry,
            "headers": self.headers,
            "timeout": self.timeout,
        }


def get_entry_result(address: str, options: GetEntryOptions | None = None) -> dict[str, Any]:
    """The full ``GetEntryResult`` (``{"result": {"Single": …}}`` or ``{"All": …}``)."""
    return current_host().get_entry_result(address, (options or GetEntryOptions()).to_json())


def _single_entry(result: dict[str, Any]) -> Entry | None:
    single = result["result"].get("Single")
    if single is None or single.get("entry") is None:
        return None
    return Entry(single["entry"])


def get_entry(address: str) -> Entry | None:
    """The latest version of the entry at ``address``; ``None`` if absent or deleted."""
    return _single_entry(get_entry_result(address, GetEntryOptions()))


def get_entry_initial(address: str) -> Entry | None:
    """The entry exactly at ``address``, even if it was since modified or deleted."""
    return _single_entry(get_entry_result(address, GetEntryOptions(status_request="Initial")))


def get_entry_history(address: str) -> dict[str, Any] | None:
    """Every version from ``address`` on: ``{"items": […], "crud_links": {…}}``; ``None`` if none."""
    result = get_entry_result(address, GetEntryOptions(status_request="All"))
    history = result["result"].get("All")
    if not history or not history.get("items"):
        return None
    return history


def entry_address(entry: Any) -> str:
    """The address ``entry`` would have, without committing it."""
    return current_host().entry_address(_as_entry(entry))


def entry_type_properties(entry_type: str) -> str:
    """The ``properties`` (description) of one of this zome's entry types."""
    return current_host().entry_type_properties(entry_type)


# -- links -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class SizePagination:
    """Links a page at a time: page ``page_number`` of ``page_size`` links."""

    page_number: int
    page_size: int

    def to_json(self) -> dict[str, Any]:
        return {"Size": {"page_number": self.page_number, "page_size": self.page_size}}


@dataclasses.dataclass
class TimePagination:
    """Links newer than ``from_time`` (ISO 8601 text, or seconds since the epoch), at most ``limit``."""

    from_time: str | int
    limit: int

    def to_json(self) -> dict[str, Any]:
        text = self.from_time
        if isinstance(text, int):
            text = format_ns(text * 1_000_000_000)
        return {"Time": {"from_time": text, "limit": self.limit}}


@dataclasses.dataclass
class GetLinksOptions:
    """``GetLinksOptions``: live or deleted links, headers, timeout (ms), pagination and sort order."""

    status_request: str = "Live"  # Live | Deleted | All
    headers: bool = False
    timeout: int = 60000  # milliseconds
    pagination: SizePagination | TimePagination | None = None
    sort_order: str | None = None  # None (Descending) | "Ascending" | "Descending"

    def to_json(self) -> dict[str, Any]:
        return {
            "status_request": self.status_request,
            "headers": self.headers,
            "timeout": self.timeout,
            "pagination": self.pagination.to_json() if self.pagination is not None else None,
            "sort_order": self.sort_order,
        }


def link_entries(base: str, target: str, link_type: str, tag: str = "") -> str:
    """Link ``base`` to ``target``; every call makes a distinct link.  Returns the LinkAdd address."""
    return current_host().link_entries(base, target, link_type, tag)


def remove_link(base: str, target: str, link_type: str, tag: str = "") -> None:
    """Remove every live link from ``base`` to ``target`` with this type and tag, by any author."""
    current_host().remove_link(base, target, link_type, tag)


def get_links_with_options(
    base: str, link_type: str | None, tag: str | None, options: GetLinksOptions
) -> dict[str, Any]:
    """``{"links": [{"address", "headers", "tag", "status"}, …]}``."""
    return current_host().get_links(base, link_type, tag, options.to_json())


def get_links(base: str, link_type: str | None = None, tag: str | None = None) -> dict[str, Any]:
    return get_links_with_options(base, link_type, tag, GetLinksOptions())


def get_links_count_with_options(
    base: str, link_type: str | None, tag: str | None, options: GetLinksOptions
) -> dict[str, int]:
    """``{"count": n}``: how many links match the type, tag and status filters."""
    return current_host().get_links_count(base, link_type, tag, options.to_json())


def get_links_count(base: str, link_type: str | None = None, tag: str | None = None) -> dict[str, int]:
    return get_links_count_with_options(base, link_type, tag, GetLinksOptions())


def get_links_result(
    base: str, link_type: str | None, tag: str | None, options: GetLinksOptions, get_entry_options: GetEntryOptions
) -> list[dict[str, Any] | ZomeApiError]:
    """``get_links`` then ``get_entry_result`` of each target (an error in place of a failed get)."""
    links = get_links_with_options(base, link_type, tag, options)["links"]
    out: list[dict[str, Any] | ZomeApiError] = []
    for link in links:
        try:
            out.append(get_entry_result(link["address"], get_entry_options))
        except ZomeApiError as exc:
            out.append(exc)
    return out


def get_links_and_load(base: str, link_type: str | None = None, tag: str | None = None) -> list[Entry | ZomeApiError]:
    """The latest version of each linked entry (an error in place of a deleted or failed one)."""
    out: list[Entry | ZomeApiError] = []
    for result in get_links_result(base, link_type, tag, GetLinksOptions(), GetEntryOptions()):
        if isinstance(result, ZomeApiError):
            out.append(result)
            continue
        single = result["result"].get("Single")
        if single is None:
            out.append(
                ZomeApiError.internal(
                    "Invalid response. get_links_result returned all entries when latest was requested"
                )
            )
        elif single.get("entry") is None:
            out.append(ZomeApiError.internal("Entry is None so most likely has been marked as deleted"))
        else:
            out.append(Entry(single["entry"]))
    return out


def get_links_and_load_type(base: str, link_type: str | None, tag: str | None, cls: type) -> list[Any]:
    """Linked app entries converted to ``cls``; those that are not (or fail to convert) are skipped."""
    out = []
    for item in get_links_and_load(base, link_type, tag):
        if isinstance(item, Entry) and item.is_app:
            try:
                out.append(convert_argument(cjson.loads(item.app_value_json), cls, "entry"))
            except Exception:  # as the Rust HDK does: silently drop what does not convert
                continue
    return out


# -- chain -----------------------------------------------------------------------------------------


def query_result(
    entry_type_names: str | list[str], start: int = 0, limit: int = 0, *, headers: bool = False, entries: bool = False
) -> dict[str, Any]:
    """This agent's chain, newest first: ``{"Addresses": …}``, ``{"Headers": …}``,
    ``{"Entries": [[address, entry], …]}`` or ``{"HeadersWithEntries": [[header, entry], …]}``."""
    options = {"start": start, "limit": limit, "headers": headers, "entries": entries}
    return current_host().query(entry_type_names, options)


def query(entry_type_names: str | list[str], start: int = 0, limit: int = 0) -> list[str]:
    """Addresses of this agent's chain entries of the named types, newest first (``limit`` 0: all)."""
    return query_result(entry_type_names, start, limit)["Addresses"]


def commit_capability_grant(
    grant_id: str, cap_type: str, assignees: list[str] | None, functions: dict[str, list[str]]
) -> str:
    """Grant access to functions; ``cap_type`` is public, transferable or assigned.  Returns the token."""
    return current_host().commit_capability_grant(grant_id, cap_type, assignees, functions)


def commit_capability_claim(claim_id: str, grantor: str, token: str) -> str:
    return current_host().commit_capability_claim(claim_id, grantor, token)


# -- crypto and keystore ----------------------------------------------------------------------------


def sign(payload: str) -> str:
    """The agent's base64 Ed25519 signature over ``payload``."""
    return current_host().sign(payload)


def sign_one_time(payloads: list[str]) -> dict[str, Any]:
    """``{"pub_key", "signatures"}`` from a fresh key that is then forgotten."""
    return current_host().sign_one_time(list(payloads))


def verify_signature(provenance: Iterable[str], payload: str) -> bool:
    """Whether ``provenance = [agent address, signature]`` signed ``payload``."""
    return current_host().verify_signature(list(provenance), payload)


def encrypt(payload: str) -> str:
    """Encrypt for this agent alone (only this agent can ``decrypt`` it)."""
    return current_host().encrypt(payload)


def decrypt(payload: str) -> str:
    return current_host().decrypt(payload)


def keystore_list() -> dict[str, list[str]]:
    """``{"ids": [...]}``: the names of this agent's secrets, sorted."""
    return current_host().keystore("list", {})


def keystore_new_random(dst_id: str, size: int) -> None:
    current_host().keystore("add_random_seed", {"dst_id": dst_id, "size": size})


def keystore_derive_seed(src_id: str, dst_id: str, context: str, index: int) -> None:
    """Derive a seed (libsodium ``crypto_kdf``; ``context`` is exactly 8 bytes, ``index`` ≥ 1)."""
    current_host().keystore(
        "add_seed_from_seed", {"src_id": src_id, "dst_id": dst_id, "context": context, "index": index}
    )


def keystore_derive_key(src_id: str, dst_id: str, key_type: str) -> str:
    """Derive a key pair from a seed; ``key_type`` is ``Signing`` or ``Encrypting``.  Returns its public key."""
    return current_host().keystore("add_key_from_seed", {"src_id": src_id, "dst_id": dst_id, "key_type": key_type})


def keystore_sign(src_id: str, payload: str) -> str:
    return current_host().keystore("sign", {"src_id": src_id, "payload": payload})


def keystore_get_public_key(src_id: str) -> str:
    return current_host().keystore("get_public_key", {"src_id": src_id})


# -- calls, messages, misc ---------------------------------------------------------------------------


def call(instance_handle: str, zome_name: str, cap_token: str, fn_name: str, fn_args: Any) -> Any:
    """Call a zome function of this instance (``THIS_INSTANCE``) or through a bridge.

    Returns the callee's result as JSON (e.g. ``{"Ok": 4}``).
    """
    return current_host().call(instance_handle, zome_name, cap_token, fn_name, to_json_value(fn_args))


def send(to_agent: str, payload: str, timeout: int = 60000) -> str:
    """Send a direct message to ``to_agent``'s zome of this name; returns its ``receive`` answer."""
    return current_host().send(to_agent, payload, timeout)


def emit_signal(name: str, arguments: Any) -> None:
    """Send a ``User`` signal to the conductor's clients; ``arguments`` is sent as JSON text."""
    current_host().emit_signal(name, cjson.dumps(to_json_value(arguments)))


def debug(message: Any) -> None:
    """Log a message from the zome (``dna: '<message>'`` in the conductor log)."""
    current_host().debug(message if isinstance(message, str) else cjson.dumps(to_json_value(message)))


def property(name: str) -> Any:
    """The DNA property ``name``; ``Internal`` error if absent."""
    return current_host().property(name)


def sleep(seconds: float) -> None:
    """Pause this zome call (other calls keep running)."""
    current_host().sleep(seconds)


def version() -> str:
    return current_host().meta("Version")


def version_hash() -> str:
    return current_host().meta("Hash")


def start_bundle(timeout: int = 0, user_param: Any = None) -> None:
    raise ZomeApiError("FunctionNotImplemented")


def close_bundle(action: Any = None) -> None:
    raise ZomeApiError("FunctionNotImplemented")


# -- what validation callbacks receive -----------------------------------------------------------


@dataclasses.dataclass
class ValidationData:
    """The package a validator sees, and whether it runs at the author or a holder.

    ``package`` maps ``chain_header``, ``source_chain_entries``,
    ``source_chain_headers`` and ``custom``; chain parts are only built when read.
    ``lifecycle`` is ``Chain`` at the author, ``Dht`` (content) or ``Meta``
    (updates, deletions, links) at holders.
    """

    package: Any
    lifecycle: str

    def sources(self) -> list[str]:
        """Agents that signed the entry (the provenance sources of its header)."""
        header = self.package["chain_header"] or {}
        return [p[0] for p in header.get("provenances", [])]


@dataclasses.dataclass
class EntryValidation:
    """``EntryValidationData``: ``action`` is ``"create"``, ``"modify"`` or ``"delete"``.

    ``entry`` is the new value (create, modify; ``None`` for delete) as the
    entry type's class; ``old_entry`` and ``old_entry_header`` describe the
    version replaced or deleted.
    """

    action: str
    entry: Any
    validation_data: ValidationData
    old_entry: Any = None
    old_entry_header: dict[str, Any] | None = None


@dataclasses.dataclass
class LinkValidation:
    """``LinkValidationData``: ``action`` is ``"add"`` or ``"remove"``.

    ``link`` is the ``LinkData`` JSON (``action_kind``, ``link``,
    ``top_chain_header``, ``agent_id``); ``entry_type`` is the entry type the
    link is defined on and ``direction`` ``"to"`` or ``"from"``.
    """

    action: str
    link: dict[str, Any]
    validation_data: ValidationData
    entry_type: str = ""
    direction: str = ""

    @builtins.property
    def base(self) -> str:
        return self.link["link"]["base"]

    @builtins.property
    def target(self) -> str:
        return self.link["link"]["target"]

    @builtins.property
    def link_type(self) -> str:
        return self.link["link"]["link_type"]

    @builtins.property
    def tag(self) -> str:
        return self.link["link"]["tag"]
