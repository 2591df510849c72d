"""Validation packages, built lazily.

A ``ChainFull`` package holds the author's whole chain; building it on every
commit would make committing cost O(chain length).  The packages here are
mappings that produce ``source_chain_headers`` / ``source_chain_entries``
only if the validator actually reads them, so a validator that checks just
the entry pays nothing for the package its definition asks for.

* :class:`ValidationPackage` reads the author's own chain (at the author, and
  when a holder asks the author for a package);
* :class:`RemoteValidationPackage` is what a holder gives its validators: on
  first use it asks the author (``get_validation_package``), and if the
  author cannot be reached rebuilds the package from headers and entries
  held on the DHT, as holochain-rust's ``build_from_dht`` does.

Either way a validator only sees headers strictly older than the one being
validated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..core.dna import Dna
from ..core.header import ChainHeader
from ..core.validation import headers_before
from ..net import NetworkError
from ..ribosome import runner
from .app_validation import Unresolved
from .cascade import Cascade
from .chain import SourceChain
from .workspace import Workspace

__all__ = ["ValidationPackage", "RemoteValidationPackage", "AuthorPackages", "public_entry"]

log = logging.getLogger(__name__)

_PACKAGE_TIMEOUT = 10.0
_MAX_CHAIN_WALK = 100_000

_KEYS = ("chain_header", "source_chain_entries", "source_chain_headers", "custom")
_WITH_ENTRIES = ("ChainEntries", "ChainFull")
_WITH_HEADERS = ("ChainHeaders", "ChainFull")


def public_entry(dna: Dna, entry_json: dict[str, Any]) -> bool:
    """Whether an entry may appear in a package (private entries, the DNA, grants never do)."""
    ((variant, body),) = entry_json.items()
    if variant == "App":
        found = dna.entry_type_def(body[0])
        return found is not None and found[1]["sharing"] != "private"
    return variant not in ("Dna", "CapTokenGrant", "CapTokenClaim")


class _LazyPackage(Mapping[str, Any]):
    def __init__(self, header: ChainHeader, definition: Any, custom: str | None = None) -> None:
        self._header = header
        if isinstance(definition, dict):  # {"Custom": "<text>"}: the header plus that text
            custom, definition = definition.get("Custom"), "Custom"
        self._definition = definition
        self._custom = custom
        self._cache: dict[str, Any] = {}

    def _headers(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _entries(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        if key not in self._cache:
            d = self._definition
            if key == "chain_header":
                value: Any = self._header.to_json()
            elif key == "source_chain_entries":
                value = self._entries() if d in _WITH_ENTRIES else None
            elif key == "source_chain_headers":
                value = headers_before(self._headers(), self._header.timestamp) if d in _WITH_HEADERS else None
            else:
                value = self._custom
            self._cache[key] = value
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    def to_json(self) -> dict[str, Any]:
        return {k: self[k] for k in _KEYS}


class ValidationPackage(_LazyPackage):
    """``{chain_header, source_chain_entries, source_chain_headers, custom}`` from our own chain.

    ``upto`` is the number of chain records the package may show (by default
    all of them: at the author, the header being validated is not appended yet).
    """

    def __init__(
        self,
        chain: SourceChain,
        header: ChainHeader,
        definition: Any,
        dna: Dna,
        custom: str | None = None,
        upto: int | None = None,
    ) -> None:
        super().__init__(header, definition, custom)
        self._chain = chain
        self._dna = dna
        self._upto = upto

    def _records(self, with_entries: bool) -> Iterator[Any]:
        for record in self._chain.records_desc(with_entries=with_entries):
            if self._upto is not None and record.seq >= self._upto:
                continue
            yield record

    def _headers(self) -> list[dict[str, Any]]:
        return [r.header.to_json() for r in self._records(False)]

    def _entries(self) -> list[dict[str, Any]]:
        return [
            r.entry.value for r in self._records(True) if r.entry is not None and public_entry(self._dna, r.entry.value)
        ]


class RemoteValidationPackage(_LazyPackage):
    """A holder's view of an author's package; ``load`` fetches it on first use.

    ``load()`` returns ``{"source_chain_headers": […], "source_chain_entries": […]}``
    (either may be ``None``); it may suspend the validator for the network.
    """

    def __init__(
        self, header: ChainHeader, definition: Any, load: Callable[[], Mapping[str, Any]], custom: str | None = None
    ) -> None:
        super().__init__(header, definition, custom)
        self._load = load
        self._loaded: Mapping[str, Any] | None = None

    def _fetch(self) -> Mapping[str, Any]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _headers(self) -> list[dict[str, Any]]:
        return list(self._fetch().get("source_chain_headers") or [])

    def _entries(self) -> list[dict[str, Any]]:
        return list(self._fetch().get("source_chain_entries") or [])


class AuthorPackages:
    """Where a holder gets an author's validation package: from the author, else from the DHT."""

    def __init__(self, ws: Workspace, cascade: Cascade) -> None:
        self.ws = ws
        self.cascade = cascade

    def fetch(self, header: ChainHeader, definition: Any) -> Mapping[str, Any]:
        """Ask the author for its package; if it is gone, rebuild it from the DHT."""
        node = self.ws.node
        if node is not None and not node.closed:
            try:
                package = runner.wait_for(node.get_validation_package(header.author, header.address, _PACKAGE_TIMEOUT))
            except NetworkError as exc:
                log.info(
                    "%s: author %s cannot give a package (%s); rebuilding it from the DHT",
                    self.ws.instance_id,
                    header.author,
                    exc,
                )
                package = None
            if package is not None:
                return package
        return self._package_from_dht(header, definition)

    def _package_from_dht(self, header: ChainHeader, definition: Any) -> Mapping[str, Any]:
        cascade = self.cascade
        headers: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        previous = header.link
        while previous is not None and len(headers) < _MAX_CHAIN_WALK:
            record = cascade.lookup(previous)
            if record is None or "ChainHeader" not in record.entry:
                raise Unresolved([previous], f"header {previous} of {header.author}'s chain is not on the DHT")
            older = ChainHeader.from_json(record.entry["ChainHeader"])
            headers.append(older.to_json())
            if definition in ("ChainEntries", "ChainFull"):
                found = cascade.lookup(older.entry_address)
                if found is not None and public_entry(self.ws.dna, found.entry):
                    entries.append(found.entry)
            previous = older.link
        return {"source_chain_headers": headers, "source_chain_entries": entries}
