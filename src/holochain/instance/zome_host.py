"""The zome host: what zome code may ask of its instance (the ribosome's :class:`HostCore`).

Each host function of :class:`~holochain.ribosome.host_api.CallHost` lands
here, and from here goes to the workflow step that does it: commits,
updates, removals, links and grants to :mod:`.authoring`; gets and links
to :mod:`.cascade`; nested calls to :mod:`.call_zome` (``THIS_INSTANCE``)
or through a bridge (``bridge_call``, set by the conductor); messages to
the network node; signals to the workspace's sink.  Failures are raised as
:class:`HolochainError` or :class:`RibosomeError`; the host API turns them
into the ``ZomeApiError`` zome code sees.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..core import json as cjson
from ..core.crypto import encode_call_data_for_signing
from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import HolochainError, RibosomeError, RibosomeErrorCode, WorkflowError
from ..core.keys import KeystoreError
from ..core.query import QueryPatternError, compile_type_names, parse_query_options
from ..hdk import THIS_INSTANCE
from ..net import NetworkError, RequestTimeout
from ..ribosome import runner
from ..ribosome.host_api import CallInfo, HostCore, ZomeCallReply
from .authoring import Authoring
from .call_zome import CallZome, InstanceError
from .cascade import Cascade
from .workspace import Workspace

__all__ = ["InstanceHost", "THIS_INSTANCE", "BridgeCall"]

log = logging.getLogger(__name__)

_SEND_TIMEOUT_TEXT = "timeout src: crates/core/src/network/reducers/send_direct_message.rs:82"

BridgeCall = Callable[[str, str, str, Any], ZomeCallReply]
"""``bridge_call(handle, zome, function, args)``: a call through a bridge (set by the
conductor); the callee's reply, raising :class:`InstanceError`."""


class InstanceHost(HostCore):
    """The :class:`HostCore` of one instance: host functions, routed to the workflow steps."""

    def __init__(self, ws: Workspace, authoring: Authoring, cascade: Cascade, calls: CallZome) -> None:
        self.ws = ws
        self.authoring = authoring
        self.cascade = cascade
        self.calls = calls
        self.bridge_call: BridgeCall | None = None

    @property
    def dna(self) -> Dna:  # type: ignore[override]
        return self.ws.dna

    @property
    def instance_id(self) -> str:  # type: ignore[override]
        return self.ws.instance_id

    # -- the host's view: globals ------------------------------------------------------

    def global_value(self, name: str, call: CallInfo | None) -> Any:
        if name == "AGENT_ADDRESS":
            return self.ws.chain.agent_address
        if name == "DNA_ADDRESS":
            return self.ws.dna_address
        if name == "DNA_NAME":
            return self.ws.dna.name
        if name == "AGENT_ID_STR":
            return self.ws.agent_id_str
        if name == "AGENT_INITIAL_HASH":
            return self.ws.chain.agent_entries[0] if self.ws.chain.agent_entries else ""
        if name == "AGENT_LATEST_HASH":
            return self.ws.chain.agent_entries[-1] if self.ws.chain.agent_entries else ""
        if name == "PUBLIC_TOKEN":
            return self.ws.public_token or ""
        if name == "CAPABILITY_REQ":
            return call.cap_request() if call is not None else None
        if name == "PROPERTIES":
            return cjson.dumps(self.ws.dna.properties)
        raise AttributeError(name)

    # -- the host's view: entries and links ----------------------------------------------

    def author_entry(self, entry: Entry, provenances: list[list[str]], zome: str, call: CallInfo | None) -> str:
        """Validate and commit an entry authored by this agent; returns its address.

        Raises :class:`HolochainError` (e.g. ``ValidationFailed``) without
        writing anything when the entry is refused.
        """
        return self.authoring.commit(entry, provenances, call)

    def update_entry(self, entry: Entry, address: str, zome: str, call: CallInfo | None) -> str:
        return self.authoring.update(entry, address, call)

    def remove_entry(self, address: str, zome: str, call: CallInfo | None) -> str:
        return self.authoring.remove(address, call)

    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]:
        return self.cascade.get_entry_result(address, options)

    def link_entries(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> str:
        return self.authoring.link(base, target, link_type, tag, call)

    def remove_link(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> None:
        self.authoring.unlink(base, target, link_type, tag, call)

    def get_links(
        self, base: str, link_type: str | None, tag: str | None, options: dict[str, Any], count: bool
    ) -> dict[str, Any]:
        return self.cascade.get_links(base, link_type, tag, options, count)

    def commit_capability_grant(
        self, grant_id: str, cap_type: str, assignees: Any, functions: Any, call: CallInfo | None
    ) -> str:
        return self.authoring.grant(grant_id, cap_type, assignees, functions, call)

    def commit_capability_claim(self, claim_id: str, grantor: str, token: str, call: CallInfo | None) -> str:
        return self.authoring.claim(claim_id, grantor, token, call)

    def query(self, names: Any, options: Any) -> dict[str, Any]:
        """``query_result`` over this agent's chain, newest first."""
        try:
            matches = compile_type_names(names)
            opts = parse_query_options(options)
        except QueryPatternError:
            raise RibosomeError(RibosomeErrorCode.UnknownEntryType) from None
        selected = []
        for seq in range(self.ws.chain.length - 1, -1, -1):
            row = self.ws.store.chain_row(seq)
            if row is not None and matches(row.entry_type):
                selected.append(row)
        start, limit = opts["start"], opts["limit"]
        selected = selected[start : start + limit] if limit else selected[start:]
        if not opts["headers"] and not opts["entries"]:
            return {"Addresses": [row.entry_address for row in selected]}
        headers = [cjson.loads(row.header) for row in selected]
        if not opts["entries"]:
            return {"Headers": headers}
        pairs = []
        for row, header in zip(selected, headers):
            if row.entry_type == "%dna":
                continue
            text = self.ws.store.get_content(row.entry_address)
            entry = cjson.loads(text) if text is not None else None
            pairs.append((row, header, entry))
        if opts["headers"]:
            return {"HeadersWithEntries": [[header, entry] for _, header, entry in pairs]}
        return {"Entries": [[row.entry_address, entry] for row, _, entry in pairs]}

    # -- the host's view: crypto and keystore ------------------------------------------------

    def sign(self, payload: str) -> str:
        return self.ws.agent.sign(payload)

    def encrypt(self, payload: str) -> str:
        return self.ws.keys.encryption_key.encrypt(payload)

    def decrypt(self, payload: str) -> str:
        try:
            return self.ws.keys.encryption_key.decrypt(payload)
        except KeystoreError as exc:
            raise HolochainError.generic(str(exc)) from None

    def keystore(self, method: str, params: dict[str, Any]) -> Any:
        """The conductor's ``agent/keystore/*`` methods; any failure is the code ``Callback failed``."""
        ks = self.ws.keys
        try:
            if method == "list":
                return {"ids": ks.list()}
            if method == "add_random_seed":
                ks.add_random_seed(_param(params, "dst_id", str), _param(params, "size", int))
                return None
            if method == "add_seed_from_seed":
                context = _param(params, "context", str)
                if len(context.encode("utf-8")) != 8:
                    raise KeystoreError("`context` has to be 8 bytes")
                ks.add_seed_from_seed(
                    _param(params, "src_id", str), _param(params, "dst_id", str), context, _param(params, "index", int)
                )
                return None
            if method == "add_key_from_seed":
                return ks.add_key_from_seed(
                    _param(params, "src_id", str), _param(params, "dst_id", str), _param(params, "key_type", str)
                )
            if method == "sign":
                return ks.sign(_param(params, "src_id", str), _param(params, "payload", str))
            if method == "get_public_key":
                return ks.get_public_key(_param(params, "src_id", str))
        except (KeystoreError, _ParamError) as exc:
            log.info("instance '%s': keystore %s failed: %s", self.ws.instance_id, method, exc)
            raise RibosomeError(RibosomeErrorCode.CallbackFailed) from None
        raise RibosomeError(RibosomeErrorCode.CallbackFailed)

    # -- the host's view: calls, messages, signals -----------------------------------------------

    def call_zome(
        self, handle: str, zome: str, cap_token: str, function: str, args: Any, caller: CallInfo | None
    ) -> Any:
        """``hdk::call``: this instance (``THIS_INSTANCE``) or a bridge; returns the result JSON."""
        if handle == THIS_INSTANCE:
            args_json = "null" if args is None else cjson.dumps(args)
            if (
                caller is not None
                and caller.zome == zome
                and caller.function == function
                and caller.token == cap_token
                and caller.provenance[0] == self.ws.agent.address
                and ("null" if caller.args is None else cjson.dumps(caller.args)) == args_json
            ):
                raise RibosomeError(RibosomeErrorCode.RecursiveCallForbidden)
            provenance = [self.ws.agent.address, self.ws.agent.sign(encode_call_data_for_signing(function, args_json))]
            fn, call = self.calls.check(zome, function, args, cap_token, provenance)
            try:
                result = self.calls.run(fn, call)
            except InstanceError as exc:
                raise HolochainError.generic(str(exc)) from None
        else:
            if self.bridge_call is None:
                raise HolochainError.generic(
                    f"Bridge call failed: instance '{self.ws.instance_id}' has no bridge '{handle}'"
                )
            try:
                result = self.bridge_call(handle, zome, function, args)
            except InstanceError as exc:  # its text is the JSON-RPC error object, as holochain-rust's
                raise HolochainError.generic(str(exc)) from None
        if inspect.isawaitable(result):
            try:
                result = runner.wait_for(result)
            except InstanceError as exc:
                raise HolochainError.generic(str(exc)) from None
        return cjson.loads(result) if isinstance(result, (str, bytes)) else result

    def send_message(self, zome: str, to_agent: str, payload: str, timeout_ms: int) -> str:
        node = self.ws.node
        if node is None or node.closed:
            raise HolochainError.generic("this instance is not on a network")
        try:
            return runner.wait_for(node.send_direct(to_agent, zome, payload, timeout_ms / 1000))
        except RequestTimeout:
            raise HolochainError.timeout(_SEND_TIMEOUT_TEXT) from None
        except NetworkError as exc:
            raise HolochainError.generic(str(exc)) from None

    def emit_signal(self, name: str, arguments: str) -> None:
        self.ws.emit_signal(name, arguments)


class _ParamError(WorkflowError, ValueError):
    pass


def _param(params: Mapping[str, Any], key: str, kind: type) -> Any:
    if not isinstance(params, Mapping) or key not in params:
        raise _ParamError(f"`{key}` param not provided")
    value = params[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _ParamError(f"`{key}` has to be an integer")
    if kind is str and not isinstance(value, str):
        raise _ParamError(f"`{key}` is not a valid json string")
    return value
