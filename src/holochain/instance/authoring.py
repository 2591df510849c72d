"""Authoring: everything that appends to this agent's source chain.

``commit`` is holochain-rust's ``author_entry`` workflow:

0. for links, base and target must be gettable (``Base for link not found:
   Link { … }``);
1. the entry kind must be committable and, for app entries, declared in the
   DNA; counter-signatures must verify over the entry address;
2. app validation runs against a pre-flight header (counter-signatures
   first, then ours), with a lazy validation package;
3. the record is appended and *held locally* in the same write — entry,
   header, CRUD and link facts — so the author sees its own data at once,
   even offline;
4. the publish workflow is poked; it publishes from the committed chain once
   the write is durable, after the reply.

Nothing is written when any step fails.  ``update``/``remove`` resolve the
latest version first; links build their ``LinkData`` around the chain head;
grants and claims skip validation and are never published, as in
holochain-rust.
"""

from __future__ import annotations

from typing import Any

from ..core.dht_ops import DhtOp, check_entry_shape
from ..core.entry import Entry, EntryShapeError
from ..core.errors import HolochainError, RibosomeError, RibosomeErrorCode
from ..core.header import ChainHeader
from ..core.links import link_data_json, link_json
from ..core.validation import AUTHOR_VALIDATED_SYS, check_provenances
from ..ribosome.host_api import CallInfo
from ..storage.base import WriteBatch
from .app_validation import AppValidation, Unresolved
from .cascade import Cascade
from .validation_package import ValidationPackage
from .workspace import Workspace

__all__ = ["Authoring", "MAX_ENTRY_BYTES", "local_ops"]

# holochain-rust had no limit below its 2^31 wasm memory; this bounds what one commit may store
# (and what a holder accepts), far above anything app_spec writes.
MAX_ENTRY_BYTES = 1024 * 1024
_CAP_TYPES = ("public", "transferable", "assigned")


def local_ops(entry: Entry, header: ChainHeader) -> list[DhtOp]:
    """What the author holds of its own record: the content, plus its CRUD or link meaning."""
    ops = [DhtOp("Content", entry, header)]
    if entry.is_app and header.link_update_delete is not None:
        ops.append(DhtOp("Update", entry, header))
    elif entry.variant == "Deletion":
        ops.append(DhtOp("Deletion", entry, header))
    elif entry.variant in ("LinkAdd", "LinkRemove"):
        ops.append(DhtOp(entry.variant, entry, header))
    return ops


class Authoring:
    """The commit workflow, and the CRUD, link and capability entries built on it."""

    def __init__(self, ws: Workspace, validation: AppValidation, cascade: Cascade) -> None:
        self.ws = ws
        self.validation = validation
        self.cascade = cascade
        self.chain = ws.chain
        self.dna_changed()

    def dna_changed(self) -> None:
        """Re-read the DNA's app entry types (its zome code was reloaded)."""
        zomes = self.ws.dna.zomes.values()
        self._app_types = frozenset(t for z in zomes for t in z["entry_types"] if not t.startswith("%"))

    # -- the commit workflow --------------------------------------------------------------------

    def check_committable(self, entry: Entry) -> None:
        try:
            check_entry_shape(entry)
        except EntryShapeError:
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed) from None
        if entry.is_app:
            if entry.type_name not in self._app_types:
                raise HolochainError.validation_failed(f"Unknown app entry type '{entry.type_name}'")
        elif entry.variant not in AUTHOR_VALIDATED_SYS:
            raise HolochainError.validation_failed(f"Attempted to validate system entry type {entry.variant}")
        size = len(entry.content.encode("utf-8"))
        if size > MAX_ENTRY_BYTES:
            raise HolochainError.validation_failed(
                f"Entry of {size} bytes is larger than the {MAX_ENTRY_BYTES} bytes an entry may have"
            )

    def commit(
        self,
        entry: Entry,
        provenances: list[list[str]],
        call: CallInfo | None,
        *,
        link_update_delete: str | None = None,
        validate: bool = True,
    ) -> str:
        ws = self.ws
        if validate:
            self.check_committable(entry)
            if provenances:
                check_provenances(entry.address, provenances)
            if entry.variant in ("LinkAdd", "LinkRemove"):
                body = entry.value["LinkAdd"] if entry.variant == "LinkAdd" else entry.value["LinkRemove"][0]
                self.validation.link_entries(body["link"], holding=False)
                if self.validation.find_link_definition(body["link"]["link_type"]) is None:
                    raise HolochainError.generic("Unknown entry type")
        header = self.chain.new_header(entry, link_update_delete)
        if validate:
            preflight = (
                header
                if not provenances
                else ChainHeader(
                    header.entry_type,
                    header.entry_address,
                    [*provenances, *header.provenances],
                    header.link,
                    header.link_same_type,
                    header.link_update_delete,
                    header.timestamp,
                )
            )
            chain, dna = self.chain, ws.dna
            try:
                self.validation.validate(
                    entry, preflight, "Chain", lambda d: ValidationPackage(chain, preflight, d, dna), holding=False
                )
            except Unresolved:
                raise HolochainError.validation_failed("Missing dependencies") from None
            if not self.chain.fits_head(header):
                # another call committed while validation waited: re-link, same signature
                header = self.chain.new_header(entry, link_update_delete, header.provenances[0][1])
        batch = WriteBatch()
        self.append(entry, header, batch)
        ticket = ws.store.write(batch)
        ws.wrote(ticket, call)
        return entry.address

    def append(self, entry: Entry, header: ChainHeader, batch: WriteBatch) -> None:
        """Append to the chain and hold it locally, all in ``batch``."""
        self.chain.append(header, entry, batch)
        now = self.ws.clock()
        for op in local_ops(entry, header):
            self.ws.shard.integrate(op, batch, now, log_op=False)
        # the header is an entry of its own (published as such); the author can get it at once
        batch.contents[header.address] = '{"ChainHeader":' + header.content + "}"  # = dumps({"ChainHeader": …})
        if entry.variant == "CapTokenGrant":
            self.ws.grants_changed()

    # -- CRUD -----------------------------------------------------------------------------------

    def _latest(self, address: str) -> str:
        try:
            latest = self.cascade.latest_version_address(address)
        except HolochainError:
            raise RibosomeError(RibosomeErrorCode.WorkflowFailed) from None
        if latest is None:
            raise RibosomeError(RibosomeErrorCode.EntryNotFound)
        return latest

    def update(self, entry: Entry, address: str, call: CallInfo | None) -> str:
        latest = self._latest(address)
        return self.commit(entry, [], call, link_update_delete=latest)

    def remove(self, address: str, call: CallInfo | None) -> str:
        latest = self._latest(address)
        deletion = Entry.deletion(latest)
        return self.commit(deletion, [], call, link_update_delete=latest)

    # -- links ----------------------------------------------------------------------------------

    def _link_data(self, action: str, base: str, target: str, link_type: str, tag: str) -> dict[str, Any]:
        head = self.chain.head
        assert head is not None, "a chain always has genesis records"
        agent_id = {"nick": self.ws.agent_nick, "pub_sign_key": self.ws.agent.address}
        return link_data_json(action, link_json(base, target, link_type, tag), head.to_json(), agent_id)

    def link(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> str:
        entry = Entry({"LinkAdd": self._link_data("ADD", base, target, link_type, tag)})
        return self.commit(entry, [], call)

    def unlink(self, base: str, target: str, link_type: str, tag: str, call: CallInfo | None) -> None:
        """Remove every live link base→target of this type and tag (matched as ``get_links`` does), by any author."""
        from ..core.links import parse_link_options

        options = parse_link_options(None)
        found: dict[str, None] = {}
        try:
            remote = self.cascade.remote_links(base, link_type, tag, options) or []
        except HolochainError:
            raise RibosomeError(RibosomeErrorCode.WorkflowFailed) from None
        for link in remote:
            if link["address"] == target:
                found[link["link_add"]] = None
        for link_add in self.ws.shard.live_links_to(base, target, link_type, tag):
            found[link_add] = None
        data = self._link_data("REMOVE", base, target, link_type, tag)
        self.commit(Entry({"LinkRemove": [data, list(found)]}), [], call)

    # -- capabilities ----------------------------------------------------------------------------

    def grant(self, grant_id: str, cap_type: Any, assignees: Any, functions: Any, call: CallInfo | None) -> str:
        if not isinstance(grant_id, str) or not isinstance(cap_type, str):
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed)
        kind = cap_type.lower()
        if kind not in _CAP_TYPES:
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed)
        if assignees is not None and not (isinstance(assignees, list) and all(isinstance(a, str) for a in assignees)):
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed)
        if not isinstance(functions, dict) or not all(
            isinstance(z, str) and isinstance(fs, list) and all(isinstance(f, str) for f in fs)
            for z, fs in functions.items()
        ):
            raise RibosomeError(RibosomeErrorCode.ArgumentDeserializationFailed)
        if kind in ("public", "transferable") and assignees:
            raise HolochainError.generic(
                "Unable to commit capability grant: there must be no assignees for public or transferable grants"
            )
        if kind == "assigned" and not assignees:
            raise HolochainError.generic(
                "Unable to commit capability grant: Assigned grant must have 1 or more assignees"
            )
        stored = None if kind == "public" else ([] if kind == "transferable" else list(assignees or []))
        entry = Entry.cap_token_grant(grant_id, stored, functions)
        return self.commit(entry, [], call, validate=False)

    def claim(self, claim_id: str, grantor: str, token: str, call: CallInfo | None) -> str:
        return self.commit(Entry.cap_token_claim(claim_id, grantor, token), [], call, validate=False)
