"""Validation packages, built lazily.

A ``ChainFull`` package holds the author's whole chain; building it on every
commit would make committing cost O(chain length).  The package here reads
the chain only if the validator actually looks at ``source_chain_headers``
or ``source_chain_entries``, so a validator that checks just the entry pays
nothing for the package its definition asks for.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..core.dna import Dna
from ..core.header import ChainHeader
from .chain import SourceChain

__all__ = ["ValidationPackage"]

_KEYS = ("chain_header", "source_chain_entries", "source_chain_headers", "custom")


class ValidationPackage(Mapping[str, Any]):
    """``{chain_header, source_chain_entries, source_chain_headers, custom}``."""

    def __init__(self, chain: SourceChain, header: ChainHeader, definition: str, dna: Dna,
                 custom: str | None = None) -> None:
        self._chain = chain
        self._header = header
        self._definition = definition
        self._dna = dna
        self._custom = custom
        self._cache: dict[str, Any] = {}

    def _headers(self) -> list[dict[str, Any]]:
        return [r.header.to_json() for r in self._chain.records_desc(with_entries=False)]

    def _public_entries(self) -> list[dict[str, Any]]:
        out = []
        for record in self._chain.records_desc(with_entries=True):
            entry = record.entry
            if entry is None:
                continue
            if entry.is_app:
                found = self._dna.entry_type_def(entry.type_name)
                if found is None or found[1]["sharing"] == "private":
                    continue
            elif entry.variant in ("Dna", "CapTokenGrant", "CapTokenClaim"):
                continue
            out.append(entry.value)
        return out

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        if key not in self._cache:
            d = self._definition
            if key == "chain_header":
                value: Any = self._header.to_json()
            elif key == "source_chain_entries":
                value = self._public_entries() if d in ("ChainEntries", "ChainFull") else None
            elif key == "source_chain_headers":
                value = self._headers() if d in ("ChainHeaders", "ChainFull") else None
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
