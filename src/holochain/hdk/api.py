"""The zome API: functions zome code calls while it runs.

Each function mirrors the Rust HDK function of the same name: same inputs,
same results, and failures raised as :class:`ZomeApiError` carrying exactly
what a Rust zome would get (so ``raise``-ing it on, or returning it from a
zome function, gives clients holochain-rust's ``{"Err": …}``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..core import json as cjson
from ..core.entry import Entry
from .host import current_host
from .zome import to_json_value

__all__ = [
    "app_entry",
    "commit_entry",
    "commit_entry_result",
    "get_entry",
    "get_entry_initial",
    "get_entry_history",
    "get_entry_result",
    "entry_address",
    "debug",
    "property",
    "GetEntryOptions",
    "EntryValidation",
    "ValidationData",
]


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


@dataclasses.dataclass
class GetEntryOptions:
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
    """Every version from ``address`` on: ``{"items": […], "crud_links": {…}}``."""
    result = get_entry_result(address, GetEntryOptions(status_request="All"))
    history = result["result"].get("All")
    if not history or not history.get("items"):
        return None
    return history


def entry_address(entry: Any) -> str:
    """The address ``entry`` would have, without committing it."""
    return current_host().entry_address(_as_entry(entry))


def debug(message: Any) -> None:
    """Log a message from the zome (``dna: '<message>'`` in the conductor log)."""
    current_host().debug(message if isinstance(message, str) else cjson.dumps(to_json_value(message)))


def property(name: str) -> Any:
    """The DNA property ``name``; ``Internal`` error if absent."""
    return current_host().property(name)


# -- what validation callbacks receive ---------------------------------------------


@dataclasses.dataclass
class ValidationData:
    """The package a validator sees, and whether it runs at the author or a holder."""

    package: dict[str, Any]
    lifecycle: str  # "Chain" at the author, "Dht" / "Meta" at holders

    def sources(self) -> list[str]:
        """Agents that signed the entry (the provenance sources of its header)."""
        header = self.package.get("chain_header") or {}
        return [p[0] for p in header.get("provenances", [])]


@dataclasses.dataclass
class EntryValidation:
    """``EntryValidationData``: ``action`` is ``"create"``, ``"modify"`` or ``"delete"``.

    ``entry`` is the new value (create, modify) as the entry type's class;
    ``old_entry`` and ``old_entry_header`` describe the version replaced or deleted.
    """

    action: str
    entry: Any
    validation_data: ValidationData
    old_entry: Any = None
    old_entry_header: dict[str, Any] | None = None

