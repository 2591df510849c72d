"""Holding: the ``incoming_dht_ops`` workflow of a holder.

Each op a peer sends goes through, in order:

1. **sys_validation** (:mod:`.sys_validation`) — the op is well formed, the header names the entry,
   every provenance signature verifies; private entries, the DNA, grants and
   claims are refused outright (they never leave their author);
2. **dependencies** (:mod:`.sys_validation`) — a deletion needs the deleted version held and exactly
   ``live``; a link needs its base held (and a removal the LinkAdds it
   removes); if they have not arrived yet the op is *pending*;
3. **app_validation** (:mod:`.app_validation`) — the DNA's callbacks, in a
   zome-call greenlet, with a validation package fetched lazily from the
   author (or rebuilt from the DHT if the author is gone:
   :class:`.validation_package.AuthorPackages`);
4. **integrate_dht_ops** (:mod:`.integrate_dht_ops`) — written to the shard, and to the log of ops held
   for others; the node offers it in gossip from then on, and a consistency
   signal says it is held (:mod:`.consistency`).

The answer per op is ``held``, ``rejected: <why>`` or ``pending``.  Pending
ops are retried whenever something new is held (and on a backing-off timer);
when they settle, a *receipt* tells whoever sent them (:mod:`.validation_receipt`).  Ops still unresolved after
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
from typing import Any

from ..core import json as cjson
from ..core.address import address_of
from ..core.dht_ops import DhtOp, DhtOpError
from ..core.errors import HolochainError
from ..net.dht import DROPPED, HELD, PENDING
from ..ribosome import runner
from .app_validation import AppValidation, Unresolved
from .integrate_dht_ops import integrate_dht_op
from .sys_validation import check_dependencies, rejected, sys_validate
from .validation_package import AuthorPackages, RemoteValidationPackage
from .validation_receipt import send_validation_receipts
from .workspace import Workspace

__all__ = ["Incoming", "PENDING_GIVE_UP"]

log = logging.getLogger(__name__)

PENDING_GIVE_UP = 120.0
_RETRY_FIRST = 0.1
_RETRY_MAX = 5.0
_VALIDATED_CACHE = 4096


class _Pending:
    __slots__ = ("op", "senders", "since")

    def __init__(self, op: DhtOp, since: float) -> None:
        self.op = op
        self.senders: set[str] = set()
        self.since = since


class Incoming:
    """The ``incoming_dht_ops`` workflow of a holder: each op through sys validation, app
    validation and integration, once; pending ops retried until they settle."""

    def __init__(self, ws: Workspace, validation: AppValidation, packages: AuthorPackages) -> None:
        self.ws = ws
        self.validation = validation
        self.packages = packages
        self.shard = ws.shard
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
                results.append([address_of(cjson.dumps(raw)), rejected(str(exc))])
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
            await runner.run_to_completion(lambda: self._app_validate(op), self.ws.zome_host(""))
        except Unresolved as exc:
            return rejected(f"missing dependencies: {exc}")
        except HolochainError as exc:
            return rejected(exc.display())
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
            sys_validate(op, self.shard)
        except HolochainError as exc:
            self.ws.validation_log.note(op.entry.address, op.entry.type_name, True, exc.display())
            return rejected(exc.display())
        early = check_dependencies(op, self.shard)
        if early is not None:
            return early
        if op.header.address not in self._validated:
            host = self.ws.zome_host("")
            try:
                await runner.run_to_completion(lambda: self._app_validate(op), host)
            except Unresolved as exc:
                log.debug("%s: %r waits for %s", self.ws.instance_id, op, exc)
                return PENDING
            except HolochainError as exc:
                log.info("%s: refused %r: %s", self.ws.instance_id, op, exc.display())
                return rejected(exc.display())
            self._remember_valid(op.header.address)
        await integrate_dht_op(self.ws, op)
        self._schedule_retry()
        return HELD

    def has(self, op_hash: str) -> bool:
        """Held, or waiting for its dependencies."""
        return op_hash in self._pending or self.shard.holds_op(op_hash)

    def _remember_valid(self, header_address: str) -> None:
        self._validated[header_address] = None
        if len(self._validated) > _VALIDATED_CACHE:
            self._validated.popitem(last=False)

    # -- 3. app validation (in a greenlet) ---------------------------------------------------------

    def _app_validate(self, op: DhtOp) -> None:
        entry, header = op.entry, op.header
        lifecycle = "Dht" if op.kind == "Content" else "Meta"

        def package(definition: Any) -> Mapping[str, Any]:
            return RemoteValidationPackage(header, definition, lambda: self.packages.fetch(header, definition))

        self.validation.validate(entry, header, lifecycle, package, holding=True)

    # -- pending ops ---------------------------------------------------------------------------------

    def _add_pending(self, op: DhtOp, sender: str) -> None:
        pending = self._pending.get(op.hash)
        if pending is None:
            pending = _Pending(op, asyncio.get_running_loop().time())
            self._pending[op.hash] = pending
            node = self.ws.node
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
        node = self.ws.node
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
                node = self.ws.node
                if status == PENDING and node is not None and not node.should_hold(node.agent, pending.op.basis):
                    # the holders changed: its dependencies will go to the new holders, not to us
                    status = f"{DROPPED}: no longer a holder of {pending.op.basis}"
                elif status == PENDING and loop.time() - pending.since < PENDING_GIVE_UP:
                    continue
                elif status == PENDING:
                    status = rejected(f"dependencies did not arrive within {PENDING_GIVE_UP:g}s")
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
        node = self.ws.node
        if node is None:
            return
        send_validation_receipts(node, pending.senders, op_hash, status)
        node.end("pending holds")

    def close(self) -> None:
        node = self.ws.node
        for _ in self._pending:
            if node is not None:
                node.end("pending holds")
        self._pending.clear()
