"""The host side of the zome API: what one zome call may ask of its instance.

A :class:`CallHost` is created per zome call (or callback) and is what
``hdk.current_host()`` returns inside it.  It checks arguments the way
holochain-rust's host functions do and turns the instance's failures into
the ``ZomeApiError`` a Rust zome would see: ``Internal(<CoreError JSON>)``
for core errors, ``Internal("<code text>")`` for error codes.  The same
methods back the WebAssembly engine's ``hc_*`` imports, so both engines
share one behaviour.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Protocol

from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import HolochainError, RibosomeErrorCode, ZomeApiError

__all__ = ["CallHost", "HostCore", "CallInfo"]

zome_log = logging.getLogger("holochain.zome")


class HostCore(Protocol):
    """What the instance provides to the host API (implemented by ``Instance``)."""

    dna: Dna
    instance_id: str

    def global_value(self, name: str, call: "CallInfo | None") -> Any: ...
    def author_entry(self, entry: Entry, provenances: list[list[str]], zome: str,
                     call: "CallInfo | None") -> str: ...
    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]: ...


class CallInfo:
    """The zome call being served: who asked, with which token, what for.

    ``provenance`` is computed lazily: when the conductor itself made the
    call, the signature over ``fn:args`` is only produced if zome code reads
    ``CAPABILITY_REQ``.
    """

    __slots__ = ("zome", "function", "token", "_provenance", "_make_provenance", "wrote")

    def __init__(
        self,
        zome: str,
        function: str,
        token: str,
        provenance: list[str] | None,
        make_provenance: Callable[[], list[str]] | None = None,
    ) -> None:
        self.zome = zome
        self.function = function
        self.token = token
        self._provenance = provenance
        self._make_provenance = make_provenance
        self.wrote = 0  # highest storage ticket this call wrote (0: none)

    @property
    def provenance(self) -> list[str]:
        if self._provenance is None:
            assert self._make_provenance is not None
            self._provenance = self._make_provenance()
        return self._provenance

    def cap_request(self) -> dict[str, Any]:
        return {"cap_token": self.token, "provenance": self.provenance}


class CallHost:
    """Implements :class:`holochain.hdk.host.ZomeHost` for one call of one zome."""

    __slots__ = ("core", "zome_name", "call")

    def __init__(self, core: HostCore, zome_name: str, call: CallInfo | None) -> None:
        self.core = core
        self.zome_name = zome_name
        self.call = call

    def _fail(self, exc: HolochainError) -> ZomeApiError:
        return exc.to_zome_api_error()

    # -- globals ----------------------------------------------------------------------

    def global_value(self, name: str) -> Any:
        return self.core.global_value(name, self.call)

    # -- entries ----------------------------------------------------------------------

    def _check_entry_type(self, entry: Entry) -> None:
        if entry.is_app and self.core.dna.entry_type_def(entry.type_name) is None:
            raise RibosomeErrorCode.UnknownEntryType.to_zome_api_error()

    def commit_entry(self, entry: Entry, provenances: list[list[str]]) -> str:
        try:
            return self.core.author_entry(entry, provenances, self.zome_name, self.call)
        except HolochainError as exc:
            raise self._fail(exc) from None

    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(address, str):
            raise RibosomeErrorCode.ArgumentDeserializationFailed.to_zome_api_error()
        try:
            return self.core.get_entry_result(address, options)
        except HolochainError as exc:
            raise self._fail(exc) from None

    def entry_address(self, entry: Entry) -> str:
        self._check_entry_type(entry)
        return entry.address

    # -- misc -------------------------------------------------------------------------

    def debug(self, message: str) -> None:
        zome_log.debug("dna: '%s'", message, extra={"instance_id": self.core.instance_id})

    def property(self, name: str) -> Any:
        properties = self.core.dna.properties
        if not isinstance(properties, dict) or name not in properties:
            raise ZomeApiError.internal("field does not exist in DNA properties")
        return properties[name]
