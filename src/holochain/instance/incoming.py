"""Holding: the ``incoming_dht_ops`` workflow of a holder.

Each op a peer sends goes through, in order:

1. **sys_validation** — the op is well formed, the header names the entry,
   every provenance signature verifies; private entries, the DNA, grants and
   claims are refused outright (they never leave their author);
2. **dependencies** — a deletion needs the deleted version held and exactly
   ``live``; a link needs its base held (and a removal the LinkAdds it
   removes); if they have not arrived yet the op is *pending*;
3. **app_validation** — the DNA's callbacks, in a zome-call greenlet, with a
   validation package fetched lazily from the author (or rebuilt from the
   DHT if the author is gone);
4. **integrate_dht_ops** — written to the shard, and to the log of ops held
   for others; the node offers it in gossip from then on, and a consistency
   signal says it is held (:mod:`.consistency`).

The answer per op is ``held``, ``rejected: <why>`` or ``pending``.  Pending
ops are retried whenever something new is held (and on a backing-off timer);
when they settle, a *receipt* tells whoever sent them (holochain-rust's
``validation_receipt`` step).  Ops still unresolved after
:data:`PENDING_GIVE_UP` seconds are dropped with a receipt saying so, and so
are pending ops whose basis we no longer hold (the holders changed: their
dependencies now go to others) — ``dropped``, not refused, so they come back
if we hold that basis again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core import json as cjson
from ..core.address import address_of
from ..core.crud import can_delete
from ..core.dht_ops import NEVER_PUBLISHED, DhtOp, DhtOpError
from ..core.errors import HolochainError
from ..core.header import ChainHeader
from ..core.time import now_ns
from ..core.validation import check_header, check_provenances
from ..net import NetworkError
from ..net.dht import DROPPED, HELD, PENDING, REJECTED
from ..ribosome import runner
from ..ribosome.host_api import CallHost
from ..storage.base import WriteBatch
from .app_validation import Unresolved
from .authoring import MAX_ENTRY_BYTES
from .consistency import hold_signal
from .validation_package import RemoteValidationPackage, public_entry

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["Incoming", "PENDING_GIVE_UP"]

log = logging.getLogger(__name__)

PENDING_GIVE_UP = 120.0
_RETRY_FIRST = 0.1
_RETRY_MAX = 5.0
_VALIDATED_CACHE = 4096
_PACKAGE_TIMEOUT = 10.0
_MAX_CHAIN_WALK = 100_000


class _Pending:
    __slots__ = ("op", "senders", "since")

    def __init__(self, op: DhtOp, since: float) -> None:
        self.op = op
        self.senders: set[str] = set()
        self.since = since


def _rejected(why: str) -> str:
    return f"{REJECTED}: {why}"


class Incoming:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.shard = instance.shard
        self._pending: dict[str, _Pending] = {}
        self._active: dict[str, asyncio.Future[str]] = {}
        self._validated: OrderedDict[str, None] = OrderedDict()
        self._retry_task: asyncio.Task[None] | None = None
        self._retry_again = False

    # -- the entry point ------------------------------------------------------------------------

    async def hold_ops(self, raw_ops: list[Any], sender: str) -> list[list[str]]:
        results = []
        for raw in raw_ops:
            try:
                op = DhtOp.from_json(raw)
            except DhtOpError as exc:
                results.append([address_of(cjson.dumps(raw)), _rejected(str(exc))])
                continue
            status = HELD if self.shard.holds_op(op.hash) else await self.hold(op)
            if status == PENDING:
                self._add_pending(op, sender)
            results.append([op.hash, status])
        return results

    async def hold_own(self, op: DhtOp) -> str:
        """Validate one of our own ``Content`` ops as a holder would, so we may serve it to peers.

        The record itself was held locally at commit; only the mark that it
        passed holder validation is added, stored with the publish cursor.
        """
        if self.shard.dht_held(op.entry.address) and op.header.address in self._validated:
            return HELD
        try:  # our own fresh signatures are not verified again: only app validation differs
            await runner.run_to_completion(lambda: self._app_validate(op), CallHost(self.instance, "", None))
        except Unresolved as exc:
            return _rejected(f"missing dependencies: {exc}")
        except HolochainError as exc:
            return _rejected(exc.display())
        self._remember_valid(op.header.address)
        self.shard.mark_own(op.entry, op.header)
        return HELD

    async def hold(self, op: DhtOp) -> str:
        """Validate and integrate one op (once, however many peers send it at the same time)."""
        active = self._active.get(op.hash)
        if active is not None:
            return await asyncio.shield(active)
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._active[op.hash] = fut
        try:
            status = await self._process(op)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters get it from their own await
            raise
        else:
            fut.set_result(status)
            return status
        finally:
            self._active.pop(op.hash, None)

    async def _process(self, op: DhtOp) -> str:
        try:
            self._sys_validate(op)
        except HolochainError as exc:
            self.instance.validation_log.note(op.entry.address, op.entry.type_name, True, exc.display())
            return _rejected(exc.display())
        early = self._dependencies(op)
        if early is not None:
            return early
        if op.header.address not in self._validated:
            host = CallHost(self.instance, "", None)
            try:
                await runner.run_to_completion(lambda: self._app_validate(op), host)
            except Unresolved as exc:
                log.debug("%s: %r waits for %s", self.instance.instance_id, op, exc)
                return PENDING
            except HolochainError as exc:
                log.info("%s: refused %r: %s", self.instance.instance_id, op, exc.display())
                return _rejected(exc.display())
            self._remember_valid(op.header.address)
        batch = WriteBatch()
        self.shard.integrate(op, batch, now_ns(), log_op=True)
        await self.instance.wait_durable(self.instance.store.write(batch))
        self._integrated(op)
        self._schedule_retry()
        return HELD

    def _integrated(self, op: DhtOp) -> None:
        instance = self.instance
        if instance.node is not None:
            instance.node.note_held(op.hash, op.basis, op.author)
        if instance.consistency_signals:
            signal = hold_signal(op)
            if signal is not None:
                instance.emit_consistency(signal)

    def has(self, op_hash: str) -> bool:
        """Held, or waiting for its dependencies."""
        return op_hash in self._pending or self.shard.holds_op(op_hash)

    def _remember_valid(self, header_address: str) -> None:
        self._validated[header_address] = None
        if len(self._validated) > _VALIDATED_CACHE:
            self._validated.popitem(last=False)

    # -- 1. sys validation ----------------------------------------------------------------------

    def _sys_validate(self, op: DhtOp) -> None:
        entry, header = op.entry, op.header
        if entry.variant in NEVER_PUBLISHED:
            raise HolochainError.validation_failed(f"{entry.variant} entries are never published")
        if op.kind == "Content" and self.shard.is_private(entry):
            raise HolochainError("EntryIsPrivate")
        if header.entry_type != entry.entry_type:
            raise HolochainError.validation_failed("Wrong header for entry")
        if len(entry.content.encode("utf-8")) > MAX_ENTRY_BYTES:
            raise HolochainError.validation_failed(f"Entry is larger than {MAX_ENTRY_BYTES} bytes")
        check_header(entry, header)
        if entry.variant == "ChainHeader":
            inner = ChainHeader.from_json(entry.value["ChainHeader"])
            if not inner.provenances or inner.author != header.author:
                raise HolochainError.validation_failed("A header is published by its own author")
            check_provenances(inner.entry_address, inner.provenances)

    # -- 2. dependencies held here ----------------------------------------------------------------

    def _dependencies(self, op: DhtOp) -> str | None:
        if op.kind == "Deletion":
            status, _ = self.shard.crud(op.basis)
            if self.shard.record(op.basis) is None:
                return PENDING
            if not can_delete(status):
                return _rejected(f"cannot delete {op.basis}: its status is {status}")
        elif op.kind in ("LinkAdd", "LinkRemove"):
            if not self.shard.holds(op.basis):
                return PENDING
        return None

    # -- 3. app validation (in a greenlet) ---------------------------------------------------------

    def _app_validate(self, op: DhtOp) -> None:
        entry, header = op.entry, op.header
        lifecycle = "Dht" if op.kind == "Content" else "Meta"

        def package(definition: Any) -> Mapping[str, Any]:
            return RemoteValidationPackage(header, definition, lambda: self._fetch_package(header, definition))

        self.instance.validation.validate(entry, header, lifecycle, package, holding=True)

    def _fetch_package(self, header: ChainHeader, definition: Any) -> Mapping[str, Any]:
        """Ask the author for its package; if it is gone, rebuild it from the DHT."""
        node = self.instance.node
        if node is not None and not node.closed:
            try:
                package = runner.wait_for(node.get_validation_package(header.author, header.address, _PACKAGE_TIMEOUT))
            except NetworkError as exc:
                log.info(
                    "%s: author %s cannot give a package (%s); rebuilding it from the DHT",
                    self.instance.instance_id,
                    header.author,
                    exc,
                )
                package = None
            if package is not None:
                return package
        return self._package_from_dht(header, definition)

    def _package_from_dht(self, header: ChainHeader, definition: Any) -> Mapping[str, Any]:
        cascade = self.instance.cascade
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
                if found is not None and public_entry(self.instance.dna, found.entry):
                    entries.append(found.entry)
            previous = older.link
        return {"source_chain_headers": headers, "source_chain_entries": entries}

    # -- pending ops ---------------------------------------------------------------------------------

    def _add_pending(self, op: DhtOp, sender: str) -> None:
        pending = self._pending.get(op.hash)
        if pending is None:
            pending = _Pending(op, asyncio.get_running_loop().time())
            self._pending[op.hash] = pending
            node = self.instance.node
            if node is not None:
                node.begin("pending holds")
        pending.senders.add(sender)
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        if not self._pending:
            return
        if self._retry_task is not None and not self._retry_task.done():
            self._retry_again = True
            return
        node = self.instance.node
        if node is None or node.closed:
            return
        self._retry_task = node.spawn("pending retries", self._retry_loop())

    async def _retry_loop(self) -> None:
        loop = asyncio.get_running_loop()
        delay = _RETRY_FIRST
        while self._pending:
            self._retry_again = False
            progressed = False
            for op_hash, pending in list(self._pending.items()):
                status = await self.hold(pending.op)
                node = self.instance.node
                if status == PENDING and node is not None and not node.should_hold(node.agent, pending.op.basis):
                    # the holders changed: its dependencies will go to the new holders, not to us
                    status = f"{DROPPED}: no longer a holder of {pending.op.basis}"
                elif status == PENDING and loop.time() - pending.since < PENDING_GIVE_UP:
                    continue
                elif status == PENDING:
                    status = _rejected(f"dependencies did not arrive within {PENDING_GIVE_UP:g}s")
                progressed = True
                self._settle(op_hash, status)
            if not self._pending:
                return
            if progressed or self._retry_again:
                delay = _RETRY_FIRST
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    def _settle(self, op_hash: str, status: str) -> None:
        pending = self._pending.pop(op_hash, None)
        if pending is None:
            return
        node = self.instance.node
        if node is None:
            return
        for sender in pending.senders:
            node.send_receipts(sender, [[op_hash, status]])
        node.end("pending holds")

    def close(self) -> None:
        node = self.instance.node
        for _ in self._pending:
            if node is not None:
                node.end("pending holds")
        self._pending.clear()
