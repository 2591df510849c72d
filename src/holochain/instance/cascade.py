"""The cascade: how an instance finds entries and links, locally first, then on the DHT.

* An entry version is read from the local shard if it is held there (the
  author holds all it commits, private entries included); otherwise the
  holders of its address are asked.  ``get_entry_result`` walks versions
  with :func:`holochain.core.crud.walk_versions` over that lookup.
* Links on our own agent are answered locally (we are their authority, as
  in holochain-rust); other bases are asked of their holders, falling back
  to what the local shard knows when no holder answers (e.g. offline).

What peers send back is checked: an entry must hash to the address asked
for and its headers must name it and carry valid signatures.

The methods run in a zome-call greenlet and suspend it (``runner.wait_for``)
only when the network is needed.
"""

from __future__ import annotations

from typing import Any

from ..core.crud import (
    CRUD_STATUSES,
    EntryOptionsError,
    VersionRecord,
    latest_entry,
    parse_entry_options,
    walk_versions,
)
from ..core.entry import Entry, EntryShapeError
from ..core.errors import HolochainError, RibosomeError, RibosomeErrorCode
from ..core.header import ChainHeader
from ..core.links import LinkOptionsError, parse_link_options
from ..core.validation import check_provenances
from ..net import NetworkError, RequestTimeout
from ..ribosome import runner
from .workspace import Workspace

__all__ = ["Cascade"]

_QUERY_TIMEOUT_TEXT = "timeout src: crates/core/src/network/reducers/query.rs:83"
_DEFAULT_TIMEOUT_MS = 60000


class Cascade:
    """The ``get`` workflow: entries and links, from the local shard first, then from the DHT."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.shard = ws.shard

    # -- the network ----------------------------------------------------------------------

    def _ask(self, awaitable: Any, key: str) -> Any:
        try:
            return runner.wait_for(awaitable)
        except RequestTimeout:
            raise HolochainError.timeout(f"key: {key}, {_QUERY_TIMEOUT_TEXT}") from None
        except NetworkError as exc:
            raise HolochainError.generic(str(exc)) from None

    def _online(self) -> bool:
        node = self.ws.node
        return node is not None and not node.closed and bool(node.others())

    def remote_record(self, address: str, timeout_ms: int = _DEFAULT_TIMEOUT_MS) -> VersionRecord | None:
        if not self._online():
            return None
        node = self.ws.node
        assert node is not None
        raw = self._ask(node.get_entry(address, timeout_ms / 1000), address)
        return None if raw is None else _checked_record(address, raw)

    # -- entries ---------------------------------------------------------------------------

    def lookup(
        self,
        address: str,
        *,
        with_network: bool = True,
        timeout_ms: int = _DEFAULT_TIMEOUT_MS,
        with_headers: bool = True,
    ) -> VersionRecord | None:
        """A version, local first; ``with_headers=False`` may leave a local record's headers out."""
        record = self.shard.record(address, with_headers)
        if record is not None or not with_network:
            return record
        return self.remote_record(address, timeout_ms)

    def get_entry_result(self, address: str, options: Any) -> dict[str, Any]:
        try:
            opts = parse_entry_options(options)
        except EntryOptionsError:
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed) from None
        timeout, headers = opts["timeout"], opts["headers"]
        if opts["status_request"] != "Latest":
            return walk_versions(
                lambda a: self.lookup(a, timeout_ms=timeout, with_headers=headers),
                address,
                opts["status_request"],
                headers,
            )
        # Latest: start from the furthest held version known on the path, and remember how
        # far this walk got through held versions (see Shard.newer_version)
        shard = self.shard
        furthest = [shard.newer_version(address)]  # the furthest held version reached
        all_held = [True]  # every version so far was held here

        def lookup(a: str) -> VersionRecord | None:
            record = shard.record(a, headers)
            if record is not None:
                if all_held[0]:
                    furthest[0] = a
                return record
            all_held[0] = False
            return self.remote_record(a, timeout)

        result = walk_versions(lookup, furthest[0], "Latest", headers)
        shard.remember_newer(address, furthest[0])
        return result

    def latest_entry(self, address: str) -> Entry | None:
        value = latest_entry(self.get_entry_result(address, None))
        return Entry(value) if value is not None else None

    def latest_version_address(self, address: str) -> str | None:
        """The address of the newest version of ``address``; ``None`` if absent or deleted."""
        single = self.get_entry_result(address, None)["result"]["Single"]
        return single["meta"]["address"] if single["meta"] is not None else None

    # -- links -------------------------------------------------------------------------------

    def link_records(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any], *, local: bool
    ) -> list[dict[str, Any]]:
        """``[{address, headers, tag, status, link_add}, …]`` from our shard or the base's holders."""
        if not local:
            found = self.remote_links(base, link_type, tag, options)
            if found is not None:
                return found
        return self.shard.links(base, link_type, tag, options)

    def remote_links(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """What the base's holders answer; None if offline or no holder answered."""
        if not self._online():
            return None
        node = self.ws.node
        assert node is not None
        query = {"link_type": link_type, "tag": tag, "options": options, "count": False}
        answer = self._ask(node.get_links(base, query, options["timeout"] / 1000), base)
        return None if answer is None else _checked_links(answer)

    def get_links(self, base: str, link_type: str | None, tag: str | None, options: Any, count: bool) -> dict[str, Any]:
        try:
            opts = parse_link_options(options)
        except LinkOptionsError:
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed) from None
        local = base == self.ws.chain.agent_address
        if count:
            found = None if local else self.remote_links(base, link_type, tag, opts)
            if found is None:
                return {"count": self.shard.link_count(base, link_type, tag, opts)}
            return {"count": len(found)}
        links = self.link_records(base, link_type, tag, opts, local=local)
        return {
            "links": [
                {"address": l["address"], "headers": l["headers"], "tag": l["tag"], "status": l["status"]}
                for l in links
            ]
        }


def _checked_record(address: str, raw: Any) -> VersionRecord:
    """A peer's record, checked: the entry hashes to ``address``, the headers are its and signed."""
    try:
        entry = Entry.from_json(raw["entry"])
        status = raw["crud_status"]
        link = raw.get("crud_link")
        headers = [ChainHeader.from_json(h) for h in raw.get("headers") or []]
    except (KeyError, TypeError, EntryShapeError) as exc:
        raise HolochainError.generic(f"a holder answered with a malformed record for {address}: {exc}") from None
    if entry.address != address:
        raise HolochainError.generic(f"a holder answered for {address} with an entry hashing to {entry.address}")
    if status not in CRUD_STATUSES or (link is not None and not isinstance(link, str)):
        raise HolochainError.generic(f"a holder answered with a malformed CRUD status for {address}")
    for header in headers:
        if header.entry_address != address:
            raise HolochainError.generic(f"a holder answered for {address} with a header of another entry")
        check_provenances(address, header.provenances)
    return VersionRecord(entry.value, entry.entry_type, address, status, link, [h.to_json() for h in headers])


def _checked_links(answer: Any) -> list[dict[str, Any]]:
    links = answer.get("links") if isinstance(answer, dict) else None
    if not isinstance(links, list):
        raise HolochainError.generic("a holder answered a links query with no links")
    out = []
    for link in links:
        if not (
            isinstance(link, dict)
            and isinstance(link.get("address"), str)
            and isinstance(link.get("tag"), str)
            and link.get("status") in ("live", "deleted")
            and isinstance(link.get("headers"), list)
            and isinstance(link.get("link_add"), str)
        ):
            raise HolochainError.generic("a holder answered a links query with a malformed link")
        out.append(link)
    return out
