"""The host side of the zome API: what one zome call may ask of its instance.

A :class:`CallHost` is created per zome call (or callback) and is what
``hdk.current_host()`` returns inside it.  It checks arguments the way
holochain-rust's host functions deserialize them (a wrong shape is the code
``Argument deserialization failed``) and turns the instance's failures into
the ``ZomeApiError`` a Rust zome would see: ``Internal(<CoreError JSON>)``
for core errors (:class:`HolochainError`), ``Internal("<code text>")`` for
error codes (:class:`RibosomeError`).  The same methods back the WebAssembly
engine's ``hc_*`` imports, so both engines share one behaviour.

Host functions that need the network or another call suspend the zome call
with :func:`.runner.wait_for`; the instance's methods do that themselves, so
everything here reads as plain synchronous code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeAlias

from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import HolochainError, RibosomeError, RibosomeErrorCode, ZomeApiError
from . import runner

__all__ = ["CallHost", "HostCore", "CallInfo", "ZomeCallReply", "HOLOCHAIN_VERSION", "HDK_VERSION_HASH"]

zome_log = logging.getLogger("holochain.zome")

HOLOCHAIN_VERSION = "0.0.52-alpha2"
HDK_VERSION_HASH = "py-hdk"
_MAX_SLEEP = 3600.0


ZomeCallReply: TypeAlias = str | asyncio.Future[str] | Awaitable[str]
"""What a zome call answers: the result's JSON text at once; or a future of it that
completes when what the call wrote is durable (no task, no coroutine: the group commit
completes it); or an awaitable of it when the call has to wait (for the network, a
bridge, another call).  A caller that can answer at once tests ``isinstance(reply, str)``
first, then ``asyncio.Future``, and awaits only what is left."""


class HostCore(Protocol):
    """What the instance provides to the host API (implemented by ``Instance``).

    Methods raise :class:`HolochainError` or :class:`RibosomeError`; those that
    need the network suspend the calling greenlet themselves.
    """

    dna: Dna
    instance_id: str

    def global_value(self, name: str, call: CallInfo | None) -> Any: ...
    def author_entry(self, entry: Entry, provenances: list[list[str]], zome: str, call: CallInfo | None) -> str: ...
    def update_entry(self, entry: Entry, address: str, zome: str, call: CallInfo | None) -> str: ...
    def remove_entry(self, address: str, zome: str, call: CallInfo | None) -> str: ...
    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]: ...
    def link_entries(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> str: ...
    def remove_link(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> None: ...
    def get_links(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any], count: bool
    ) -> dict[str, Any]: ...
    def query(self, names: Any, options: dict[str, Any]) -> dict[str, Any]: ...
    def commit_capability_grant(
        self, grant_id: str, cap_type: str, assignees: Any, functions: Any, call: CallInfo | None
    ) -> str: ...
    def commit_capability_claim(self, claim_id: str, grantor: str, token: str, call: CallInfo | None) -> str: ...
    def sign(self, payload: str) -> str: ...
    def encrypt(self, payload: str) -> str: ...
    def decrypt(self, payload: str) -> str: ...
    def keystore(self, method: str, params: dict[str, Any]) -> Any: ...
    def call_zome(
        self, handle: str, zome: str, cap_token: str, function: str, args: Any, caller: CallInfo | None
    ) -> Any: ...
    def send_message(self, zome: str, to_agent: str, payload: str, timeout_ms: int) -> str: ...
    def emit_signal(self, name: str, arguments: str) -> None: ...


class CallInfo:
    """The zome call being served: who asked, with which token, what for.

    ``provenance`` is computed lazily: when the conductor itself made the
    call, the signature over ``fn:args`` is only produced if zome code reads
    ``CAPABILITY_REQ`` (or a nested call needs it).
    """

    __slots__ = ("zome", "function", "token", "args", "_provenance", "_make_provenance", "wrote")

    def __init__(
        self,
        zome: str,
        function: str,
        token: str,
        provenance: list[str] | None,
        make_provenance: Callable[[], list[str]] | None = None,
        args: Any = None,
    ) -> None:
        self.zome = zome
        self.function = function
        self.token = token
        self.args = args
        self._provenance = provenance
        self._make_provenance = make_provenance
        self.wrote = 0  # highest storage ticket this call wrote (0: none)

    @property
    def provenance(self) -> list[str]:
        if self._provenance is None:
            assert self._make_provenance is not None
            self._provenance = self._make_provenance()
        return self._provenance

    @property
    def made_by_conductor(self) -> bool:
        return self._make_provenance is not None

    def cap_request(self) -> dict[str, Any]:
        return {"cap_token": self.token, "provenance": self.provenance}


def _bad_argument() -> ZomeApiError:
    return RibosomeErrorCode.ArgumentDeserializationFailed.to_zome_api_error()


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _bad_argument()
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


class CallHost:
    """Implements :class:`holochain.hdk.host.ZomeHost` for one call of one zome."""

    __slots__ = ("core", "zome_name", "call_info")

    def __init__(self, core: HostCore, zome_name: str, call_info: CallInfo | None) -> None:
        self.core = core
        self.zome_name = zome_name
        self.call_info = call_info

    def _run(self, fn: Callable[[], Any]) -> Any:
        """Run an instance operation, mapping its failures to what zome code sees."""
        try:
            return fn()
        except HolochainError as exc:
            raise exc.to_zome_api_error() from None
        except RibosomeError as exc:
            raise exc.to_zome_api_error() from None

    # -- globals ----------------------------------------------------------------------

    def global_value(self, name: str) -> Any:
        return self.core.global_value(name, self.call_info)

    # -- entries ----------------------------------------------------------------------

    def commit_entry(self, entry: Entry, provenances: list[list[str]]) -> str:
        return self._run(lambda: self.core.author_entry(entry, provenances, self.zome_name, self.call_info))

    def update_entry(self, entry: Entry, address: str) -> str:
        _str(address)
        return self._run(lambda: self.core.update_entry(entry, address, self.zome_name, self.call_info))

    def remove_entry(self, address: str) -> str:
        _str(address)
        return self._run(lambda: self.core.remove_entry(address, self.zome_name, self.call_info))

    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]:
        _str(address)
        return self._run(lambda: self.core.get_entry_result(address, options))

    def entry_address(self, entry: Entry) -> str:
        if entry.is_app and self.core.dna.entry_type_def(entry.type_name) is None:
            raise RibosomeErrorCode.UnknownEntryType.to_zome_api_error()
        return entry.address

    def entry_type_properties(self, entry_type: str) -> str:
        zome = self.core.dna.zomes.get(self.zome_name, {})
        definition = zome.get("entry_types", {}).get(_str(entry_type))
        if definition is None:
            raise ZomeApiError.internal("No matching entry type in this zome")
        return definition["properties"]

    # -- links ------------------------------------------------------------------------

    def link_entries(self, base: str, target: str, link_type: str, tag: str) -> str:
        for value in (base, target, link_type, tag):
            _str(value)
        return self._run(lambda: self.core.link_entries(base, target, link_type, tag, self.call_info))

    def remove_link(self, base: str, target: str, link_type: str, tag: str) -> None:
        for value in (base, target, link_type, tag):
            _str(value)
        self._run(lambda: self.core.remove_link(base, target, link_type, tag, self.call_info))

    def get_links(self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]) -> dict[str, Any]:
        _str(base), _opt_str(link_type), _opt_str(tag)
        return self._run(lambda: self.core.get_links(base, link_type, tag, options, False))

    def get_links_count(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any]
    ) -> dict[str, Any]:
        _str(base), _opt_str(link_type), _opt_str(tag)
        return self._run(lambda: self.core.get_links(base, link_type, tag, options, True))

    # -- chain ------------------------------------------------------------------------

    def query(self, entry_type_names: str | list[str], options: dict[str, Any]) -> dict[str, Any]:
        return self._run(lambda: self.core.query(entry_type_names, options))

    def commit_capability_grant(
        self, grant_id: str, cap_type: str, assignees: list[str] | None, functions: dict[str, list[str]]
    ) -> str:
        return self._run(
            lambda: self.core.commit_capability_grant(grant_id, cap_type, assignees, functions, self.call_info)
        )

    def commit_capability_claim(self, claim_id: str, grantor: str, token: str) -> str:
        for value in (claim_id, grantor, token):
            _str(value)
        return self._run(lambda: self.core.commit_capability_claim(claim_id, grantor, token, self.call_info))

    # -- crypto -----------------------------------------------------------------------

    def sign(self, payload: str) -> str:
        return self._run(lambda: self.core.sign(_str(payload)))

    def sign_one_time(self, payloads: list[str]) -> dict[str, Any]:
        from ..core.keys import sign_one_time

        if not isinstance(payloads, list):
            raise _bad_argument()
        return sign_one_time([_str(p) for p in payloads])

    def verify_signature(self, provenance: list[str], payload: str) -> bool:
        from ..core.crypto import PublicKeyError, verify

        if not (isinstance(provenance, list) and len(provenance) == 2):
            raise _bad_argument()
        source, signature = _str(provenance[0]), _str(provenance[1])
        try:
            return verify(source, signature, _str(payload))
        except PublicKeyError as exc:
            text = "Signature syntactically invalid" if "signature" in str(exc) else str(exc)
            raise HolochainError.generic(text).to_zome_api_error() from None

    def encrypt(self, payload: str) -> str:
        return self._run(lambda: self.core.encrypt(_str(payload)))

    def decrypt(self, payload: str) -> str:
        return self._run(lambda: self.core.decrypt(_str(payload)))

    def keystore(self, method: str, params: dict[str, Any]) -> Any:
        return self._run(lambda: self.core.keystore(method, params))

    # -- calls, messages, misc ----------------------------------------------------------

    def call(self, instance_handle: str, zome: str, cap_token: str, function: str, args: Any) -> Any:
        for value in (instance_handle, zome, cap_token, function):
            _str(value)
        return self._run(lambda: self.core.call_zome(instance_handle, zome, cap_token, function, args, self.call_info))

    def send(self, to_agent: str, payload: str, timeout_ms: int) -> str:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 0:
            raise _bad_argument()
        return self._run(lambda: self.core.send_message(self.zome_name, _str(to_agent), _str(payload), timeout_ms))

    def emit_signal(self, name: str, arguments: str) -> None:
        self.core.emit_signal(_str(name), _str(arguments))

    def debug(self, message: str) -> None:
        zome_log.debug("dna: '%s'", message, extra={"instance_id": self.core.instance_id})

    def property(self, name: str) -> Any:
        properties = self.core.dna.properties
        if not isinstance(properties, dict):
            raise ZomeApiError.internal("DNA Properties could not be parsed as JSON")
        if name not in properties:
            raise ZomeApiError.internal("field does not exist in DNA properties")
        return properties[name]

    def sleep(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= _MAX_SLEEP:
            raise _bad_argument()
        if seconds:
            runner.wait_for(asyncio.sleep(seconds))

    def meta(self, method: str) -> str:
        if method == "Version":
            return HOLOCHAIN_VERSION
        if method == "Hash":
            return HDK_VERSION_HASH
        raise _bad_argument()
