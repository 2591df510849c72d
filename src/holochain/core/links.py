"""Links: their entries, how a shard answers ``get_links``, and their texts.

A link is ``{base, target, link_type, tag}``.  Adding one commits a
``LinkAdd`` entry whose ``LinkData`` also embeds the author's chain head and
AgentId, so every ``link_entries`` call makes a distinct link with its own
address; removing commits a ``LinkRemove`` naming the LinkAdd addresses it
tombstones (``crates/core_types/src/link/link_data.rs``).

A holder of the base keeps one row per LinkAdd (indexed by its header time,
in ns) and one tombstone row per removal (indexed by the removal time).
:func:`select_links` is ``DhtStore::get_links``: latest row per LinkAdd, a
tombstone winning; type matched exactly and tag case-insensitively; sorted
by index (newest first unless ``Ascending``); paginated *before* the status
filter, as holochain-rust does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import CoreError
from .rust_text import rust_debug_str
from .time import parse_iso8601_ns

__all__ = [
    "link_json",
    "link_data_json",
    "link_debug",
    "tag_matches",
    "LinkRow",
    "LinkAnswer",
    "select_links",
    "LinkOptionsError",
    "parse_link_options",
    "LINK_STATUS_REQUESTS",
    "SORT_ORDERS",
]

LINK_STATUS_REQUESTS = ("Live", "Deleted", "All")
SORT_ORDERS = ("Ascending", "Descending")


class LinkOptionsError(CoreError, ValueError):
    """``GetLinksOptions`` that holochain-rust's serde would not accept."""


def link_json(base: str, target: str, link_type: str, tag: str) -> dict[str, str]:
    return {"base": base, "target": target, "link_type": link_type, "tag": tag}


def link_data_json(
    action_kind: str, link: dict[str, str], top_chain_header: dict[str, Any], agent_id: dict[str, str]
) -> dict[str, Any]:
    """``LinkData`` in field order: ``action_kind`` is ``ADD`` or ``REMOVE``."""
    return {"action_kind": action_kind, "link": link, "top_chain_header": top_chain_header, "agent_id": agent_id}


def link_debug(link: dict[str, str]) -> str:
    """``{:?}`` of a Rust ``Link``, which app_spec's tests match with a regex."""
    return (
        f"Link {{ base: HashString({rust_debug_str(link['base'])}), "
        f"target: HashString({rust_debug_str(link['target'])}), "
        f"link_type: {rust_debug_str(link['link_type'])}, tag: {rust_debug_str(link['tag'])} }}"
    )


def tag_matches(wanted: str | None, tag: str) -> bool:
    """``LinkMatch`` for tags: ``None`` is Any; otherwise equal ignoring case."""
    return wanted is None or wanted.upper() == tag.upper()


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One fact a shard holds about a link at its base.

    ``removed_by`` is ``None`` for the LinkAdd row and the LinkRemove
    address for a tombstone row.
    """

    link_add: str
    link_type: str
    tag: str
    index: int
    removed_by: str | None = None


@dataclass(frozen=True, slots=True)
class LinkAnswer:
    """A selected link: its LinkAdd address, tag, status and index."""

    link_add: str
    tag: str
    status: str  # "live" | "deleted"
    index: int


def parse_link_options(options: Any) -> dict[str, Any]:
    """Check ``GetLinksOptions`` JSON and fill in holochain-rust's defaults."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise LinkOptionsError("GetLinksOptions must be a JSON object")
    status = options.get("status_request", "Live")
    if status not in LINK_STATUS_REQUESTS:
        raise LinkOptionsError(f"unknown variant `{status}`, expected one of `Live`, `Deleted`, `All`")
    sort_order = options.get("sort_order")
    if sort_order is not None and sort_order not in SORT_ORDERS:
        raise LinkOptionsError(f"unknown variant `{sort_order}`, expected `Ascending` or `Descending`")
    pagination = options.get("pagination")
    if pagination is not None:
        if not isinstance(pagination, dict) or len(pagination) != 1:
            raise LinkOptionsError('pagination is {"Size": {...}} or {"Time": {...}}')
        ((kind, body),) = pagination.items()
        if kind == "Size":
            if not isinstance(body, dict) or not all(
                isinstance(body.get(k), int) and not isinstance(body.get(k), bool) and body[k] >= 0
                for k in ("page_number", "page_size")
            ):
                raise LinkOptionsError("Size pagination needs non-negative page_number and page_size")
        elif kind == "Time":
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("from_time"), str)
                or not (
                    isinstance(body.get("limit"), int)
                    and not isinstance(body.get("limit"), bool)
                    and body["limit"] >= 0
                )
            ):
                raise LinkOptionsError("Time pagination needs from_time (ISO 8601) and a non-negative limit")
            try:
                parse_iso8601_ns(body["from_time"])
            except ValueError:
                raise LinkOptionsError(f"from_time {body['from_time']!r} is not an ISO 8601 time") from None
        else:
            raise LinkOptionsError(f"unknown pagination `{kind}`, expected `Size` or `Time`")
    timeout = options.get("timeout", 60000)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise LinkOptionsError("timeout is a non-negative number of milliseconds")
    return {
        "status_request": status,
        "headers": bool(options.get("headers", False)),
        "timeout": timeout,
        "pagination": pagination,
        "sort_order": sort_order,
    }


def select_links(
    rows: Iterable[LinkRow],
    link_type: str | None,
    tag: str | None,
    status_request: str = "Live",
    pagination: dict[str, Any] | None = None,
    sort_order: str | None = None,
    from_time_ns: int | None = None,
) -> list[LinkAnswer]:
    """``DhtStore::get_links`` over a base's rows (see the module docstring).

    For ``Time`` pagination pass the parsed ``from_time`` as ``from_time_ns``.
    """
    latest: dict[str, LinkRow] = {}
    for row in rows:
        if link_type is not None and row.link_type != link_type:
            continue
        if not tag_matches(tag, row.tag):
            continue
        current = latest.get(row.link_add)
        if current is None:
            latest[row.link_add] = row
        elif row.removed_by is not None and (current.removed_by is None or row.index > current.index):
            latest[row.link_add] = row  # a tombstone wins over the add; the latest tombstone over others
    ordered = sorted(latest.values(), key=lambda r: (r.index, r.link_add))
    if sort_order != "Ascending":
        ordered.reverse()
    if pagination is not None:
        ((kind, body),) = pagination.items()
        if kind == "Size":
            start = body["page_size"] * body["page_number"]
            ordered = ordered[start : start + body["page_size"]]
        else:
            assert from_time_ns is not None, "Time pagination needs from_time_ns"
            skipped = 0
            while skipped < len(ordered) and from_time_ns >= ordered[skipped].index:
                skipped += 1
            ordered = ordered[skipped : skipped + body["limit"]]
    out = []
    for row in ordered:
        status = "deleted" if row.removed_by is not None else "live"
        if status_request == "Live" and status != "live":
            continue
        if status_request == "Deleted" and status != "deleted":
            continue
        out.append(LinkAnswer(row.link_add, row.tag, status, row.index))
    return out
