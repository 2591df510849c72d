"""An instance: one DNA run by one agent — its chain, its DHT shard, its zome calls.

The workflows, in the order a zome call meets them (each in its own module,
named as in holochain's later rewrite):

* :meth:`Instance.initialize` — *genesis* (Dna, AgentId, public grant), or
  *load* (rebuild and verify) an existing chain; then join the network and
  run every zome's ``init``;
* :meth:`Instance.call` — *call_zome*: check the zome, the function and the
  capability, run the function, reply once what it wrote is durable;
* :mod:`.authoring` — *commit*: validate at the author, append, hold locally;
* :mod:`.publish` — *produce_dht_ops* / *publish_dht_ops*, after the reply;
* :mod:`.incoming` — *incoming_dht_ops*: sys and app validation at a
  holder, then *integrate*; receipts for what was pending;
* :mod:`.cascade` — *get*: local shard first, then the DHT.

The instance is also its node's :class:`~holochain.net.dht.NodeHandler` (what
peers may ask of it) and the ribosome's
:class:`~holochain.ribosome.host_api.HostCore` (what zome code may ask).

The conductor sets two hooks: ``signal_sink(signal)`` receives each signal
as holochain-rust's Signal JSON; ``bridge_call(handle, zome, function,
args)`` calls through a bridge (returning the callee's result JSON text, or
an awaitable of it, and raising :class:`InstanceError`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..core import json as cjson
from ..core.crypto import AgentKey, PublicKeyError, encode_call_data_for_signing, verify
from ..core.dht_ops import DhtOp
from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import HolochainError, RibosomeError, RibosomeErrorCode, WorkflowError
from ..core.keys import AgentKeystore, KeystoreError
from ..core.links import LinkOptionsError, parse_link_options
from ..core.query import QueryPatternError, compile_type_names, parse_query_options
from ..net import DirectMessageError, Network, NetworkError, RequestTimeout
from ..net.dht import DhtNode
from ..ribosome import runner
from ..ribosome.host_api import CallHost, CallInfo
from ..ribosome.ribosome import Ribosome, ZomeFunctionFailure
from ..storage.base import StorageError, Store, WriteBatch
from .app_validation import AppValidation
from .authoring import Authoring
from .cascade import Cascade
from .chain import SourceChain
from .incoming import Incoming
from .publish import Publisher
from .shard import CRUD_LINK, CRUD_STATUS, Shard
from .validation_package import ValidationPackage

__all__ = ["Instance", "InstanceError", "CRUD_STATUS", "CRUD_LINK", "THIS_INSTANCE"]

log = logging.getLogger(__name__)

PUBLIC_GRANT_ID = "hc_public"
THIS_INSTANCE = "__hdk_this_instance"
_INITIALIZED_KEY = "initialized"
_RECEIVE_TIMEOUT = 60.0  # holochain-rust: the receiver waits at most 60 s to reply
_SEND_TIMEOUT_TEXT = "timeout src: crates/core/src/network/reducers/send_direct_message.rs:82"


class InstanceError(WorkflowError):
    """A zome call the instance refuses; shown to clients as
    ``Holochain Instance Error: <message>``."""


class Instance:
    def __init__(
        self,
        instance_id: str,
        dna: Dna,
        agent: AgentKey,
        agent_nick: str,
        store: Store,
        *,
        network: Network | None = None,
        keystore: AgentKeystore | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.dna = dna
        self.dna_address = dna.address
        self.agent = agent
        self.agent_nick = agent_nick
        self.agent_id_str = cjson.dumps({"nick": agent_nick, "pub_sign_key": agent.address})
        self.store = store
        self.keys = keystore if keystore is not None else AgentKeystore.for_agent(agent)
        self.ribosome = Ribosome(dna)
        self.chain = SourceChain(store, agent, f"instance '{instance_id}'")
        self.shard = Shard(store, dna)
        self.cascade = Cascade(self)
        self.validation = AppValidation(self)
        self.authoring = Authoring(self)
        self.incoming = Incoming(self)
        self.publisher = Publisher(self)
        self.network = network if network is not None else Network.private()
        self.node: DhtNode | None = None
        self.active = False
        self.initialized = False
        self.last_ticket = 0
        # Set by the conductor that hosts this instance:
        # signal_sink receives each signal the instance emits, as holochain-rust's
        # Signal JSON (e.g. {"signal_type": "User", "name": …, "arguments": "<JSON text>"});
        # bridge_call(handle, zome, function, args) calls through a bridge and returns
        # the callee's result JSON text (or an awaitable of it), raising InstanceError.
        self.signal_sink: Callable[[dict[str, Any]], None] | None = None
        self.bridge_call: Callable[[str, str, str, Any], Any] | None = None
        self.public_token: str | None = None
        # set by the conductor when its `signals.consistency` is on (see .consistency)
        self.consistency_signals = False
        # (zome, function) pairs the public grant allows: the fast capability path
        self._public_functions: frozenset[tuple[str, str]] = frozenset()
        # (zome, function) pairs the DNA declares
        self._declared = frozenset((zome, f["name"]) for zome, z in dna.zomes.items() for f in z["fn_declarations"])

    # -- lifecycle -----------------------------------------------------------------

    async def initialize(self) -> None:
        """Genesis for a new chain (else load and verify it), join the network, run ``init``."""
        if self.store.chain_length() == 0:
            log.info("instance '%s': no chain found in the store, initializing a new chain", self.instance_id)
            await self._genesis()
        else:
            count = self.chain.load()
            log.info("instance '%s': loaded and verified a chain of %d records", self.instance_id, count)
            self.grants_changed()
        await self._join_network()
        if self.store.kv_get(_INITIALIZED_KEY) is None:
            try:
                await self._run_init()
            except BaseException:
                self._leave_network()
                raise
        self.initialized = True

    def start(self) -> None:
        if self.active:
            raise InstanceError("Holochain instance is already active.")
        self.active = True

    def stop(self) -> None:
        if not self.active:
            raise InstanceError("Holochain instance is not active yet.")
        self.active = False

    def close(self) -> None:
        """Leave the network, stop background work, close the store."""
        self.active = False
        self._leave_network()
        try:
            self.chain.write_mark()  # the next start re-hashes what this session added instead of verifying it
        except StorageError as exc:
            log.error("instance '%s': %s", self.instance_id, exc)
        self.store.close()

    async def _join_network(self) -> None:
        try:
            self.node = await self.network.join(self.dna_address, self.agent, self)
        except (ValueError, NetworkError) as exc:
            raise InstanceError(f"cannot join network '{self.network.name}': {exc}") from exc
        self.publisher.poke()

    def _leave_network(self) -> None:
        if self.node is not None:
            self.incoming.close()
            self.node.close()
            self.publisher.save_cursor()

    async def _genesis(self) -> None:
        if not self.dna.zomes:
            raise InstanceError("Attempting to initialize DNA with zero zomes!")
        batch = WriteBatch()
        for entry in (
            Entry.dna(self.dna.canonical),
            Entry.agent_id(self.agent_nick, self.agent.address),
        ):
            self.authoring.append(entry, self.chain.new_header(entry), batch)
        public = self.dna.public_functions()
        if public:
            grant = Entry.cap_token_grant(PUBLIC_GRANT_ID, None, public)
            self.authoring.append(grant, self.chain.new_header(grant), batch)
        await self.wait_durable(self._write(batch))

    async def _run_init(self) -> None:
        failures = []
        for zome in self.ribosome.zome_names:
            host = CallHost(self, zome, None)
            outcome = self.ribosome.init(zome, host)
            if isinstance(outcome, runner.Pending):
                outcome = await outcome.future
            if outcome is not None:
                failures.append((zome, outcome))
        if failures:
            text = ", ".join(f'("{z}", "{m}")' for z, m in failures)
            raise InstanceError(f"At least one zome init returned error: [{text}]")
        # waiting for this ticket also covers everything init committed before it
        await self.wait_durable(self._write(WriteBatch(kv={_INITIALIZED_KEY: "1"})))

    def grants_changed(self) -> None:
        # the newest public grant wins (reload_code commits a new one when the public functions change)
        for token, grant in reversed(self.chain.grants.items()):
            if grant["id"] == PUBLIC_GRANT_ID and grant["assignees"] is None:
                self.public_token = token
                self._public_functions = frozenset((zome, fn) for zome, fns in grant["functions"].items() for fn in fns)
                return

    async def reload_code(self, dna: Dna) -> None:
        """Run ``dna``'s zome code from now on, keeping this instance's chain, shard and network.

        For development (``hc run --watch``).  The new code is loaded first, so
        code that does not load raises :class:`~holochain.ribosome.ZomeCodeError`
        with the old code still in place.  The instance keeps the DNA address
        its chain began with (its Dna entry, its network space); when the public
        functions changed, a new public grant listing them is committed.  Calls
        already running finish with the code they started with.
        """
        ribosome = Ribosome(dna)
        self.dna = self.shard.dna = self.validation.dna = dna
        self.ribosome = self.validation.ribosome = ribosome
        self._declared = frozenset((zome, f["name"]) for zome, z in dna.zomes.items() for f in z["fn_declarations"])
        self.authoring = Authoring(self)
        public = dna.public_functions()
        if frozenset((z, fn) for z, fns in public.items() for fn in fns) != self._public_functions:
            grant = Entry.cap_token_grant(PUBLIC_GRANT_ID, None, public)
            batch = WriteBatch()
            self.authoring.append(grant, self.chain.new_header(grant), batch)
            await self.wait_durable(self._write(batch))  # appending it made it the public grant
            self.publisher.poke()

    # -- storage tickets --------------------------------------------------------------

    def _write(self, batch: WriteBatch) -> int:
        ticket = self.store.write(batch)
        self.last_ticket = max(self.last_ticket, ticket)
        return ticket

    def wrote(self, ticket: int, call: CallInfo | None) -> None:
        """A commit wrote ``ticket``: the call's reply waits for it; publishing follows."""
        self.last_ticket = max(self.last_ticket, ticket)
        if call is not None:
            call.wrote = max(call.wrote, ticket)
        self.publisher.poke()

    async def wait_durable(self, ticket: int) -> None:
        fut = self.store.wait_durable(ticket)
        if fut is not None:
            await fut

    # -- zome calls --------------------------------------------------------------------

    def _check_call(
        self, zome: str, function: str, args: Any, token: str | None, provenance: list[str] | None
    ) -> tuple[Any, CallInfo]:
        """``validate_call``: raises :class:`HolochainError` in holochain-rust's kinds."""
        if not self.ribosome.has_zome(zome):
            raise HolochainError.generic(f"Zome '{zome}' not found")
        fn = self.ribosome.function(zome, function)
        if fn is None or (zome, function) not in self._declared:
            raise HolochainError.generic(f"Zome function '{function}' not found in Zome '{zome}'")
        if token is None:
            if self.public_token is None:
                raise HolochainError.generic("Public token not found: No public CapTokenGrant entry type in chain")
            token = self.public_token
        call = CallInfo(
            zome,
            function,
            token,
            provenance,
            None if provenance is not None else lambda: self._own_provenance(function, args),
            args,
        )
        if not self._capability_allows(call, args):
            raise HolochainError.capability_check_failed()
        return fn, call

    def call(
        self,
        zome: str,
        function: str,
        args: Any,
        *,
        token: str | None = None,
        provenance: list[str] | None = None,
    ) -> Any:
        """Run a zome function; returns the JSON text of its result, or an
        awaitable of it when the call has to wait (for the network, or for
        what it wrote to become durable).  Raises :class:`InstanceError`.
        """
        if not self.active:
            raise InstanceError("Holochain instance is not active yet.")
        try:
            fn, call = self._check_call(zome, function, args, token, provenance)
        except HolochainError as exc:
            raise InstanceError(exc.display()) from None
        return self._run_call(fn, call)

    def _run_call(self, fn: Any, call: CallInfo) -> Any:
        host = CallHost(self, call.zome, call)
        try:
            outcome = self.ribosome.call_function(fn, call.args, host, (self.instance_id, call.zome, call.function))
        except (ZomeFunctionFailure, runner.ZomeCallTimeout) as exc:
            raise InstanceError(f"Zome function failure: {exc}") from None
        if isinstance(outcome, runner.Pending):
            return self._finish_later(outcome, call)
        return self._reply(outcome, call)

    def _reply(self, value: Any, call: CallInfo) -> Any:
        """The result's JSON text, or (when the call wrote) a future of it that completes once
        what the call wrote is durable."""
        text = value if isinstance(value, cjson.RawJson) else cjson.dumps(value)
        if call.wrote:
            fut = self.store.wait_durable(call.wrote, text)
            if fut is not None:
                return fut
        return text

    async def _finish_later(self, pending: runner.Pending, call: CallInfo) -> str:
        try:
            value = await pending.future
        except (ZomeFunctionFailure, runner.ZomeCallTimeout) as exc:
            raise InstanceError(f"Zome function failure: {exc}") from None
        result = self._reply(value, call)
        return result if isinstance(result, str) else await result

    def _own_provenance(self, function: str, args: Any) -> list[str]:
        args_json = "null" if args is None else cjson.dumps(args)
        return [self.agent.address, self.agent.sign(encode_call_data_for_signing(function, args_json))]

    def _capability_allows(self, call: CallInfo, args: Any) -> bool:
        """holochain-rust's ``validate_call``: a grant on this chain, or our own key."""
        if call.token == self.public_token and (call.zome, call.function) in self._public_functions:
            return True  # the public grant: open to everyone, the signature is not consulted
        grant = self.chain.grants.get(call.token)
        if grant is not None:
            if call.function not in grant["functions"].get(call.zome, ()):
                return False
            if not self._call_signature_ok(call, args):
                return False
            assignees = grant["assignees"]
            return not assignees or call.provenance[0] in assignees
        if call.token == self.agent.address:
            # holochain-rust accepted any valid signature here, from anyone, though an
            # agent's address is public; only the agent itself may use its own key.
            return call.provenance[0] == self.agent.address and self._call_signature_ok(call, args)
        return False

    def _call_signature_ok(self, call: CallInfo, args: Any) -> bool:
        if call.made_by_conductor:
            return True  # made by this conductor for its own agent: trusted, not re-verified
        source, signature = call.provenance
        args_json = "null" if args is None else cjson.dumps(args)
        try:
            return verify(source, signature, encode_call_data_for_signing(call.function, args_json))
        except PublicKeyError:
            return False

    # -- the host's view: globals ------------------------------------------------------

    def global_value(self, name: str, call: CallInfo | None) -> Any:
        if name == "AGENT_ADDRESS":
            return self.chain.agent_address
        if name == "DNA_ADDRESS":
            return self.dna_address
        if name == "DNA_NAME":
            return self.dna.name
        if name == "AGENT_ID_STR":
            return self.agent_id_str
        if name == "AGENT_INITIAL_HASH":
            return self.chain.agent_entries[0] if self.chain.agent_entries else ""
        if name == "AGENT_LATEST_HASH":
            return self.chain.agent_entries[-1] if self.chain.agent_entries else ""
        if name == "PUBLIC_TOKEN":
            return self.public_token or ""
        if name == "CAPABILITY_REQ":
            return call.cap_request() if call is not None else None
        if name == "PROPERTIES":
            return cjson.dumps(self.dna.properties)
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
        for seq in range(self.chain.length - 1, -1, -1):
            row = self.store.chain_row(seq)
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
            text = self.store.get_content(row.entry_address)
            entry = cjson.loads(text) if text is not None else None
            pairs.append((row, header, entry))
        if opts["headers"]:
            return {"HeadersWithEntries": [[header, entry] for _, header, entry in pairs]}
        return {"Entries": [[row.entry_address, entry] for row, _, entry in pairs]}

    # -- the host's view: crypto and keystore ------------------------------------------------

    def sign(self, payload: str) -> str:
        return self.agent.sign(payload)

    def encrypt(self, payload: str) -> str:
        return self.keys.encryption_key.encrypt(payload)

    def decrypt(self, payload: str) -> str:
        try:
            return self.keys.encryption_key.decrypt(payload)
        except KeystoreError as exc:
            raise HolochainError.generic(str(exc)) from None

    def keystore(self, method: str, params: dict[str, Any]) -> Any:
        """The conductor's ``agent/keystore/*`` methods; any failure is the code ``Callback failed``."""
        ks = self.keys
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
            log.info("instance '%s': keystore %s failed: %s", self.instance_id, method, exc)
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
                and caller.provenance[0] == self.agent.address
                and ("null" if caller.args is None else cjson.dumps(caller.args)) == args_json
            ):
                raise RibosomeError(RibosomeErrorCode.RecursiveCallForbidden)
            provenance = [self.agent.address, self.agent.sign(encode_call_data_for_signing(function, args_json))]
            fn, call = self._check_call(zome, function, args, cap_token, provenance)
            try:
                result = self._run_call(fn, call)
            except InstanceError as exc:
                raise HolochainError.generic(str(exc)) from None
        else:
            if self.bridge_call is None:
                raise HolochainError.generic(
                    f"Bridge call failed: instance '{self.instance_id}' has no bridge '{handle}'"
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
        node = self.node
        if node is None or node.closed:
            raise HolochainError.generic("this instance is not on a network")
        try:
            return runner.wait_for(node.send_direct(to_agent, zome, payload, timeout_ms / 1000))
        except RequestTimeout:
            raise HolochainError.timeout(_SEND_TIMEOUT_TEXT) from None
        except NetworkError as exc:
            raise HolochainError.generic(str(exc)) from None

    def emit_signal(self, name: str, arguments: str) -> None:
        sink = self.signal_sink
        signal = {"signal_type": "User", "name": name, "arguments": arguments}
        if sink is None:
            log.debug("instance '%s': signal %s (no conductor listening)", self.instance_id, name)
            return
        try:
            sink(signal)
        except Exception:  # a broken listener must not break the zome call
            log.exception("instance '%s': the signal sink failed", self.instance_id)

    def emit_consistency(self, signal: dict[str, Any]) -> None:
        sink = self.signal_sink
        if sink is None:
            return
        try:
            sink(signal)
        except Exception:  # a broken listener must not break holding or the zome call
            log.exception("instance '%s': the signal sink failed", self.instance_id)

    # -- the node handler: what peers may ask ----------------------------------------------------

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        return await self.incoming.hold_ops(ops, sender)

    def answer_entry(self, address: str) -> dict[str, Any] | None:
        return self.shard.answer_entry(address)

    def answer_links(self, base: str, query: dict[str, Any]) -> dict[str, Any] | None:
        link_type, tag = query.get("link_type"), query.get("tag")
        if (link_type is not None and not isinstance(link_type, str)) or (tag is not None and not isinstance(tag, str)):
            raise TypeError("link_type and tag are strings or null")
        try:
            options = parse_link_options(query.get("options"))
        except LinkOptionsError as exc:
            raise ValueError(str(exc)) from None
        return self.shard.answer_links(base, link_type, tag, options, bool(query.get("count")))

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str:
        if not self.ribosome.has_receive(zome):
            raise DirectMessageError(f"Error calling receive callback: zome '{zome}' has no receive callback")
        host = CallHost(self, zome, None)
        try:
            return await asyncio.wait_for(self.ribosome.receive(zome, sender, payload, host), _RECEIVE_TIMEOUT)
        except TimeoutError:
            raise DirectMessageError("Error calling receive callback: it did not answer within 60 s") from None
        except runner.ZomeCallTimeout as exc:
            raise DirectMessageError(f"Error calling receive callback: {exc}") from None
        except Exception as exc:
            log.warning("instance '%s': receive callback raised %s", self.instance_id, exc, exc_info=exc)
            raise DirectMessageError(f"Error calling receive callback: {type(exc).__name__}: {exc}") from None

    def validation_package(self, header_address: str) -> dict[str, Any] | None:
        seq = self.chain.seq_of(header_address)
        if seq is None:
            return None
        record = self.chain.record(seq)
        if record is None or record.entry is None:
            return None
        definition = self.validation.package_definition(record.entry)
        package = ValidationPackage(self.chain, record.header, definition, self.dna, upto=seq)
        return package.to_json()

    def held_items(self) -> Iterator[tuple[str, str, str]]:
        for raw in self.shard.held_ops():
            op = DhtOp.from_json(raw)
            yield op.hash, op.basis, op.author

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        return self.publisher.authored_items(start)

    def ops(self, op_hashes: list[str]) -> dict[str, Any]:
        """Our ops by hash: contents before what depends on them (links, updates, deletions)."""
        found = []
        for op_hash in op_hashes:
            text = self.store.get_content(op_hash)
            op = cjson.loads(text) if text is not None else self.publisher.op(op_hash)
            if isinstance(op, dict) and len(op) == 1:
                found.append((_OP_ORDER.get(next(iter(op)), 9), op_hash, op))
        found.sort(key=lambda f: f[0])
        return {op_hash: op for _, op_hash, op in found}

    def has_op(self, op_hash: str) -> bool:
        return self.incoming.has(op_hash)

    def peers_changed(self) -> None:
        self.publisher.peers_changed()


_OP_ORDER = {"Content": 0, "Update": 1, "Deletion": 2, "LinkAdd": 3, "LinkRemove": 4}


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
