"""An instance: one DNA run by one agent, with its chain, shard and zome calls.

The workflows read in the order a zome call meets them:

* :meth:`Instance.initialize` — *genesis* (Dna, AgentId, public grant, then
  every zome's ``init``) for a new chain, or *load* (rebuild and verify) an
  existing one.
* :meth:`Instance.call` — *call_zome*: check the zome, the function and the
  capability, run the function, reply once what it wrote is durable.
* :meth:`Instance.author_entry` — *commit*: validate at the author, append
  the header, hold the entry in the local shard.
* :meth:`Instance.get_entry_result` — *get*: the entry, its CRUD status and
  its newer versions, from the local shard.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from ..core import json as cjson
from ..core.crypto import AgentKey, PublicKeyError, encode_call_data_for_signing, verify
from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import HolochainError
from ..core.header import ChainHeader
from ..core.time import now_ns
from ..hdk.api import EntryValidation, ValidationData
from ..ribosome import runner
from ..ribosome.host_api import CallHost, CallInfo
from ..ribosome.ribosome import Ribosome, ZomeFunctionFailure
from ..storage.base import EavRow, StorageError, Store, WriteBatch
from .chain import SourceChain
from .validation_package import ValidationPackage

__all__ = ["Instance", "InstanceError", "CRUD_STATUS", "CRUD_LINK"]

log = logging.getLogger(__name__)

PUBLIC_GRANT_ID = "hc_public"
CRUD_STATUS = "crud-status"
CRUD_LINK = "crud-link"
_INITIALIZED_KEY = "initialized"
_STATUS_PRIORITY = {"deleted": 3, "modified": 2, "live": 1}


class InstanceError(Exception):
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
    ) -> None:
        self.instance_id = instance_id
        self.dna = dna
        self.dna_address = dna.address
        self.agent = agent
        self.agent_nick = agent_nick
        self.agent_id_str = cjson.dumps({"nick": agent_nick, "pub_sign_key": agent.address})
        self.store = store
        self.ribosome = Ribosome(dna)
        self.chain = SourceChain(store, agent, f"instance '{instance_id}'")
        self.active = False
        self.initialized = False
        # Set by the conductor that hosts this instance:
        # signal_sink receives each signal the instance emits, as holochain-rust's
        # Signal JSON (e.g. {"signal_type": "User", "name": …, "arguments": "<JSON text>"});
        # bridge_call(handle, zome, function, args) calls through a bridge and returns
        # the callee's result JSON text (or an awaitable of it), raising InstanceError.
        self.signal_sink: Callable[[dict[str, Any]], None] | None = None
        self.bridge_call: Callable[[str, str, str, Any], Any] | None = None
        self.public_token: str | None = None
        # (zome, function) pairs the public grant allows: the fast capability path
        self._public_functions: frozenset[tuple[str, str]] = frozenset()

    # -- lifecycle -----------------------------------------------------------------

    async def initialize(self) -> None:
        """Genesis for a new chain, otherwise load and verify the stored one."""
        if self.store.chain_length() == 0:
            log.info("instance '%s': no chain found in the store, initializing a new chain", self.instance_id)
            await self._genesis()
        else:
            count = self.chain.load()
            log.info("instance '%s': loaded and verified a chain of %d records", self.instance_id, count)
            self._find_public_grant()
            if self.store.kv_get(_INITIALIZED_KEY) is None:
                await self._run_init()
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
        self.active = False
        self.store.close()

    async def _genesis(self) -> None:
        if not self.dna.zomes:
            raise InstanceError("Attempting to initialize DNA with zero zomes!")
        batch = WriteBatch()
        for entry in (
            Entry.dna(self.dna.canonical),
            Entry.agent_id(self.agent_nick, self.agent.address),
        ):
            self._commit(entry, batch)
        public = self.dna.public_functions()
        if public:
            self._commit(Entry.cap_token_grant(PUBLIC_GRANT_ID, None, public), batch)
        await self._wait(self.store.write(batch))
        self._find_public_grant()
        await self._run_init()

    async def _run_init(self) -> None:
        failures = []
        for zome in sorted(self.ribosome.zomes):
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
        await self._wait(self.store.write(WriteBatch(kv={_INITIALIZED_KEY: "1"})))

    def _find_public_grant(self) -> None:
        for token, grant in self.chain.grants.items():
            if grant["id"] == PUBLIC_GRANT_ID and grant["assignees"] is None:
                self.public_token = token
                self._public_functions = frozenset(
                    (zome, fn) for zome, fns in grant["functions"].items() for fn in fns
                )
                return

    async def _wait(self, ticket: int) -> None:
        fut = self.store.wait_durable(ticket)
        if fut is not None:
            await fut

    # -- zome calls --------------------------------------------------------------------

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
        zome_def = self.ribosome.zomes.get(zome)
        if zome_def is None:
            raise InstanceError(f"Zome '{zome}' not found")
        fn = zome_def.functions.get(function)
        if fn is None or not self.dna.has_function(zome, function):
            raise InstanceError(f"Zome function '{function}' not found in Zome '{zome}'")
        if token is None:
            if self.public_token is None:
                raise InstanceError("Public token not found: No public CapTokenGrant entry type in chain")
            token = self.public_token
        call = CallInfo(zome, function, token, provenance,
                        None if provenance is not None else lambda: self._own_provenance(function, args))
        if not self._capability_allows(call, args):
            raise InstanceError("Caller does not have Capability to make that call")
        host = CallHost(self, zome, call)
        try:
            outcome = self.ribosome.call_function(fn, args, host, f"{self.instance_id}/{zome}/{function}")
        except ZomeFunctionFailure as exc:
            raise InstanceError(f"Zome function failure: {exc}") from exc
        if isinstance(outcome, runner.Pending):
            return self._finish_later(outcome, call)
        return self._reply(outcome, call)

    def _reply(self, value: Any, call: CallInfo) -> Any:
        text = cjson.dumps(value)
        if call.wrote:
            fut = self.store.wait_durable(call.wrote)
            if fut is not None:
                return _after(fut, text)
        return text

    async def _finish_later(self, pending: runner.Pending, call: CallInfo) -> str:
        try:
            value = await pending.future
        except ZomeFunctionFailure as exc:
            raise InstanceError(f"Zome function failure: {exc}") from exc
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
        if call._provenance is None:
            return True  # made by this conductor for its own agent: trusted, not re-verified
        source, signature = call.provenance
        args_json = "null" if args is None else cjson.dumps(args)
        try:
            return verify(source, signature, encode_call_data_for_signing(call.function, args_json))
        except PublicKeyError:
            return False

    # -- the host's view ----------------------------------------------------------------

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

    # -- commit ---------------------------------------------------------------------------

    def author_entry(
        self, entry: Entry, provenances: list[list[str]], zome: str, call: CallInfo | None
    ) -> str:
        """Validate and commit an entry authored by this agent; returns its address.

        Raises :class:`HolochainError` (e.g. ``ValidationFailed``) without
        writing anything when the entry is refused.
        """
        self._check_committable(entry)
        header = self.chain.new_header(entry)
        if provenances:
            self._check_counter_signatures(entry, provenances)
        preflight = ChainHeader(
            header.entry_type, header.entry_address, [*provenances, *header.provenances],
            header.link, header.link_same_type, header.link_update_delete, header.timestamp,
        )
        self._validate_at_author(entry, preflight, zome)
        if not self.chain.fits_head(header):
            # another call committed while validation waited: re-link, same signature
            header = self.chain.new_header(entry, header.link_update_delete, header.provenances[0][1])
        batch = WriteBatch()
        self._commit(entry, batch, header)
        ticket = self.store.write(batch)
        if call is not None:
            call.wrote = ticket  # tickets grow: the last one covers the earlier ones
        return entry.address

    def _check_committable(self, entry: Entry) -> None:
        if entry.is_app:
            if self.dna.entry_type_def(entry.type_name) is None:
                raise HolochainError.validation_failed(f"Unknown app entry type '{entry.type_name}'")
        elif entry.variant not in ("LinkAdd", "LinkRemove", "Deletion", "CapTokenGrant", "AgentId"):
            raise HolochainError.validation_failed(
                f"Attempted to validate system entry type {entry.variant}"
            )

    def _check_counter_signatures(self, entry: Entry, provenances: list[list[str]]) -> None:
        for provenance in provenances:
            if not (isinstance(provenance, list) and len(provenance) == 2
                    and all(isinstance(p, str) for p in provenance)):
                raise HolochainError.validation_failed("provenance must be [source, signature]")
            source, signature = provenance
            try:
                ok = verify(source, signature, entry.address)
            except PublicKeyError:
                raise HolochainError.validation_failed(
                    f"Signature of entry {entry.address} from author {source} failed to verify "
                    "public signing key. Key might be invalid."
                ) from None
            if not ok:
                raise HolochainError.validation_failed(
                    f"Signature of entry {entry.address} from author {source} invalid"
                )

    def _validate_at_author(self, entry: Entry, header: ChainHeader, zome_hint: str) -> None:
        if not entry.is_app:
            return
        type_name = entry.type_name
        zome, definition = self.dna.entry_type_def(type_name)  # checked by _check_committable
        entry_def = self.ribosome.zomes[zome].entry_types.get(type_name)
        if entry_def is None:
            raise HolochainError.validation_failed(f"Unknown app entry type '{type_name}'")
        try:
            value = entry_def.decode(entry.app_value_json)
        except Exception:
            raise HolochainError.validation_failed(
                f"Could not convert Entry result to requested type : {entry.app_value_json}"
            ) from None
        package = ValidationPackage(self.chain, header, entry_def.validation_package, self.dna)
        validation = EntryValidation(
            action="create",
            entry=value,
            validation_data=ValidationData(package=package, lifecycle="Chain"),
        )
        reason = self.ribosome.validate_entry(zome, type_name, validation, CallHost(self, zome, None))
        if isinstance(reason, runner.Pending):  # pragma: no cover - only outside a zome call
            raise HolochainError.generic("validation cannot wait outside a zome call")
        if reason is not None:
            raise HolochainError.validation_failed(reason)

    def _commit(self, entry: Entry, batch: WriteBatch, header: ChainHeader | None = None) -> ChainHeader:
        """Append to the chain and hold it in the local shard, all in ``batch``."""
        if header is None:
            header = self.chain.new_header(entry)
        self.chain.append(header, entry, batch)
        self._hold(entry, header, batch)
        if entry.variant == "CapTokenGrant":
            self._find_public_grant()
        return header

    def _hold(self, entry: Entry, header: ChainHeader, batch: WriteBatch) -> None:
        """Hold an entry (and its header, as an entry of its own) in the local shard."""
        ts = now_ns()
        batch.contents[entry.address] = cjson.dumps(entry.value)
        batch.headers.append((entry.address, header.address, header.content))
        batch.eav.append(EavRow(entry.address, CRUD_STATUS, "live", ts))
        batch.contents[header.address] = cjson.dumps({"ChainHeader": header.to_json()})

    # -- get -----------------------------------------------------------------------------

    def _entry_with_meta(self, address: str) -> tuple[Entry, str, str | None] | None:
        text = self.store.get_content(address)
        if text is None:
            return None
        entry = Entry(cjson.loads(text))
        if entry.variant == "ChainHeader":
            return entry, "live", None
        status = None
        link = None
        for row in self.store.eav(address, "crud-"):
            if row.attribute == CRUD_STATUS:
                if status is None or _STATUS_PRIORITY.get(row.value, 0) > _STATUS_PRIORITY.get(status, 0):
                    status = row.value
            elif row.attribute == CRUD_LINK and link is None:
                link = row.value
        if status is None:
            return None  # in the store but not held: treat as absent
        return entry, status, link

    def get_entry_result(self, address: str, options: dict[str, Any]) -> dict[str, Any]:
        """``get_entry_result`` over the local shard (holochain-rust's workflow)."""
        kind = options.get("status_request", "Latest")
        want_headers = bool(options.get("headers", False))
        items: list[dict[str, Any]] = []
        crud_links: dict[str, str] = {}
        next_address: str | None = address
        seen: set[str] = set()
        cleared = False
        while next_address is not None and next_address not in seen:
            seen.add(next_address)
            found = self._entry_with_meta(next_address)
            if found is None:
                break
            entry, status, link = found
            if kind == "Latest" and status == "deleted":
                items.clear()
                crud_links.clear()
                cleared = True
                break
            headers = [cjson.loads(h) for h in self.store.held_headers(next_address)] if want_headers else []
            items.append({
                "meta": {"address": entry.address, "entry_type": entry.entry_type, "crud_status": status},
                "entry": entry.value,
                "headers": headers,
            })
            if link is not None:
                crud_links[entry.address] = link
            if kind == "Initial":
                break
            next_address = link if status != "deleted" else None
        if kind == "All":
            return {"result": {"All": {"items": items, "crud_links": crud_links}}}
        if not items or cleared:
            return {"result": {"Single": {"meta": None, "entry": None, "headers": []}}}
        return {"result": {"Single": items[-1]}}


async def _after(fut: "asyncio.Future[None]", text: str) -> str:
    await fut
    return text
