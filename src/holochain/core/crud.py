"""CRUD status: the rules that decide what ``get_entry`` sees.

An entry a shard holds carries status facts: ``live`` when held, ``modified``
(plus a *crud link* to the new version) when updated, ``deleted`` when
removed.  Reading takes the strongest: deleted > modified > live
(``crates/core/src/nucleus/actions/get_entry.rs``).  ``rejected`` and
``locked`` exist in the enum but core never writes them: an invalid entry is
simply not held.

:func:`walk_versions` is ``get_entry_result_workflow``: from an address it
follows crud links to the newest version (``Latest``), stops at the first
(``Initial``) or collects them all (``All``); a deletion ends the walk, and
for ``Latest`` clears the result.  It takes a ``lookup`` function so the same
rule serves a local shard and the network cascade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import CoreError

__all__ = [
    "CRUD_STATUSES",
    "strongest_status",
    "VersionRecord",
    "walk_versions",
    "latest_entry",
    "can_update",
    "can_delete",
    "parse_entry_options",
    "EntryOptionsError",
    "STATUS_REQUESTS",
]

CRUD_STATUSES = ("live", "rejected", "deleted", "modified", "locked")
STATUS_REQUESTS = ("Initial", "Latest", "All")
_PRIORITY = {"deleted": 3, "modified": 2, "live": 1}
_MAX_VERSIONS = 10_000  # a walk never runs longer than this, whatever a peer claims


class EntryOptionsError(CoreError, ValueError):
    """``GetEntryOptions`` that holochain-rust's serde would not accept."""


def strongest_status(statuses: Iterable[str]) -> str | None:
    """The status a reader sees: deleted > modified > live; ``None`` if none."""
    best: str | None = None
    for status in statuses:
        if status not in _PRIORITY:
            continue
        if best is None or _PRIORITY[status] > _PRIORITY[best]:
            best = status
    return best


def can_update(status: str | None) -> bool:
    """A holder records an update only of a held version that is not deleted."""
    return status in ("live", "modified")


def can_delete(status: str | None) -> bool:
    """A holder records a deletion only of a version that is exactly live."""
    return status == "live"


@dataclass(slots=True)
class VersionRecord:
    """One version as a shard (or a peer) knows it."""

    entry: dict[str, Any]  # serde JSON of the entry
    entry_type: Any  # serde form of its type
    address: str
    crud_status: str
    crud_link: str | None = None
    headers: list[dict[str, Any]] = field(default_factory=list)


def parse_entry_options(options: Any) -> dict[str, Any]:
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise EntryOptionsError("GetEntryOptions must be a JSON object")
    kind = options.get("status_request", "Latest")
    if kind not in STATUS_REQUESTS:
        raise EntryOptionsError(f"unknown variant `{kind}`, expected one of `Initial`, `Latest`, `All`")
    timeout = options.get("timeout", 60000)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise EntryOptionsError("timeout is a non-negative number of milliseconds")
    return {
        "status_request": kind,
        "entry": bool(options.get("entry", True)),
        "headers": bool(options.get("headers", False)),
        "timeout": timeout,
    }


def _item(record: VersionRecord, with_headers: bool) -> dict[str, Any]:
    return {
        "meta": {"address": record.address, "entry_type": record.entry_type, "crud_status": record.crud_status},
        "entry": record.entry,
        "headers": list(record.headers) if with_headers else [],
    }


_EMPTY_SINGLE: dict[str, Any] = {"meta": None, "entry": None, "headers": []}


def walk_versions(
    lookup: Callable[[str], VersionRecord | None], address: str, status_request: str, with_headers: bool
) -> dict[str, Any]:
    """``GetEntryResult`` JSON for ``address`` (see the module docstring)."""
    items: list[dict[str, Any]] = []
    crud_links: dict[str, str] = {}
    seen: set[str] = set()
    next_address: str | None = address
    while next_address is not None and next_address not in seen and len(seen) < _MAX_VERSIONS:
        seen.add(next_address)
        record = lookup(next_address)
        if record is None:
            break
        if status_request == "Latest" and record.crud_status == "deleted":
            items.clear()
            crud_links.clear()
            break
        items.append(_item(record, with_headers))
        if record.crud_link is not None:
            crud_links[record.address] = record.crud_link
        if status_request == "Initial":
            break
        next_address = record.crud_link if record.crud_status != "deleted" else None
    if status_request == "All":
        return {"result": {"All": {"items": items, "crud_links": crud_links}}}
    return {"result": {"Single": items[-1] if items else dict(_EMPTY_SINGLE)}}


def latest_entry(result: dict[str, Any]) -> dict[str, Any] | None:
    """``GetEntryResult::latest``: the entry of the newest version found, if any."""
    body = result["result"]
    if "Single" in body:
        entry: dict[str, Any] | None = body["Single"].get("entry")
        return entry
    items = body["All"]["items"]
    return items[-1]["entry"] if items else None
