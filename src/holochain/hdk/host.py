"""The seam between zome code and the conductor.

Zome code runs inside a *zome-call greenlet* that the ribosome sets up; the
greenlet carries a ``host`` object implementing :class:`ZomeHost` for the
running call.  HDK functions look it up with :func:`current_host` and never
import the conductor, so this package depends on nothing above it, and the
same host API serves the WebAssembly engine's ``hc_*`` imports.

Host methods take and return JSON-shaped Python values (and core
:class:`~holochain.core.entry.Entry` objects), mirroring the Rust HDK's
host-function arguments, and raise ``holochain.core.errors.ZomeApiError``
exactly as a failed host call surfaces in Rust zome code.
"""

from __future__ import annotations

from typing import Any, Protocol

import greenlet

from ..core.entry import Entry
from ..core.errors import ZomeError

__all__ = ["ZomeHost", "current_host", "OutsideZomeCall"]


class OutsideZomeCall(ZomeError, RuntimeError):
    """An HDK function was called outside a running zome call."""


class ZomeHost(Protocol):
    """What the conductor offers the zome during one call (one method per host function)."""

    zome_name: str

    # -- globals ---------------------------------------------------------------
    def global_value(self, name: str) -> Any: ...

    # -- entries ---------------------------------------------------------------
    def commit_entry(self, entry: Entry, provenances: list[list[str]]) -> str: ...
    def update_entry(self, entry: Entry, address: str) -> str: ...
    def remove_entry(self, address: str) -> str: ...
    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]: ...
    def entry_address(self, entry: Entry) -> str: ...
    def entry_type_properties(self, entry_type: str) -> str: ...

    # -- links -----------------------------------------------------------------
    def link_entries(self, base: str, target: str, link_type: str, tag: str) -> str: ...
    def remove_link(self, base: str, target: str, link_type: str, tag: str) -> None: ...
    def get_links(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]
    ) -> dict[str, Any]: ...
    def get_links_count(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]
    ) -> dict[str, Any]: ...

    # -- chain -----------------------------------------------------------------
    def query(self, entry_type_names: str | list[str], options: dict[str, Any]) -> dict[str, Any]: ...
    def commit_capability_grant(
        self, grant_id: str, cap_type: str, assignees: list[str] | None, functions: dict[str, list[str]]
    ) -> str: ...
    def commit_capability_claim(self, claim_id: str, grantor: str, token: str) -> str: ...

    # -- crypto ----------------------------------------------------------------
    def sign(self, payload: str) -> str: ...
    def sign_one_time(self, payloads: list[str]) -> dict[str, Any]: ...
    def verify_signature(self, provenance: list[str], payload: str) -> bool: ...
    def encrypt(self, payload: str) -> str: ...
    def decrypt(self, payload: str) -> str: ...
    def keystore(self, method: str, params: dict[str, Any]) -> Any: ...

    # -- calls, messages, misc ---------------------------------------------------
    def call(self, instance_handle: str, zome: str, cap_token: str, function: str, args: Any) -> Any: ...
    def send(self, to_agent: str, payload: str, timeout_ms: int) -> str: ...
    def emit_signal(self, name: str, arguments: str) -> None: ...
    def property(self, name: str) -> Any: ...
    def debug(self, message: str) -> None: ...
    def sleep(self, seconds: float) -> None: ...
    def meta(self, method: str) -> str: ...


def current_host() -> ZomeHost:
    """The host of the zome call running in this greenlet."""
    host = getattr(greenlet.getcurrent(), "hc_host", None)
    if host is None:
        raise OutsideZomeCall(
            "HDK functions can only be used while a zome function or callback runs "
            "(not at import time of the zome module)"
        )
    return host
