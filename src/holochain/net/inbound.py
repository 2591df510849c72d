"""A node's inbound side: every request from a peer opened, checked and answered.

The envelope is verified (:mod:`.wire`), the body checked against its kind
(:mod:`.messages`), then acted on; whatever goes wrong is answered with an
``error`` envelope naming it, and the node keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..core import json as cjson
from . import rounds
from .gossip import digest_sum
from .membership import ANYONE
from .messages import check
from .node_base import NodeBase
from .queries import DirectMessageError
from .wire import EnvelopeError, open_envelope, seal_envelope

__all__ = ["Inbound"]

log = logging.getLogger(__name__)

_EARLY_RECEIPTS = 16_384  # receipts that overtook the "pending" answer they settle


class Inbound(NodeBase):
    """The inbound side of :class:`~.dht.DhtNode` (a mixin)."""

    async def on_message(self, sender: str, data: bytes) -> bytes:
        with self.working("inbound messages"):
            try:
                frm, kind, body = open_envelope(
                    data, space=self.space, to=(self.agent, ANYONE), sender=sender, anyone_for=("bootstrap",)
                )
            except EnvelopeError as exc:
                log.warning("%s: refused a message from %s: %s", self.agent[:12], sender, exc)
                return seal_envelope(self.key, self.space, sender, "error", f"refused: {exc}")
            if self.closed:
                return seal_envelope(self.key, self.space, frm, "error", "this agent has left the space")
            self.heard(frm)
            try:
                reply = await self._dispatch(frm, kind, body)
            except (KeyError, TypeError, ValueError) as exc:
                return seal_envelope(self.key, self.space, frm, "error", f"malformed {kind}: {exc}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # answer, log, and keep serving
                log.exception("%s: handling %s from %s failed", self.agent[:12], kind, frm)
                return seal_envelope(self.key, self.space, frm, "error", f"{kind} failed: {type(exc).__name__}: {exc}")
            sealed = seal_envelope(self.key, self.space, frm, kind, reply)
            limit = self.network.switchboard.max_message_bytes
            if len(sealed) > limit:
                return seal_envelope(
                    self.key,
                    self.space,
                    frm,
                    "error",
                    f"the answer to {kind} ({len(sealed)} bytes) exceeds what network "
                    f"'{self.network.name}' carries ({limit} bytes)",
                )
            return sealed

    async def _dispatch(self, frm: str, kind: str, body: Any) -> Any:
        fields = check(kind, body)
        self.served[kind] += 1
        if kind == "hold":
            results = await self.handler.hold_ops(fields["ops"], frm)
            self._note_results(results, None)
            return {"results": results}
        if kind == "receipt":
            for op_hash, status in fields["results"]:
                items = self._receipts.pop((frm, op_hash), None)
                if items is None:  # it may have overtaken the answer it settles: keep it a while
                    self._early[(frm, op_hash)] = status
                    while len(self._early) > _EARLY_RECEIPTS:
                        self._early.popitem(last=False)
                for item in items or ():
                    item.finish(status)
            return {}
        if kind == "get_entry":
            return {"record": self.handler.answer_entry(fields["address"])}
        if kind == "get_links":
            return {"answer": self.handler.answer_links(fields["base"], fields["query"])}
        if kind == "direct":
            try:
                return {"ok": await self.handler.receive_direct(frm, fields["zome"], fields["payload"])}
            except DirectMessageError as exc:
                return {"err": str(exc)}
        if kind == "validation_package":
            return {"package": self.handler.validation_package(fields["header_address"])}
        if kind == "gossip_list":
            self._refresh_authored()
            return {"items": self.index.listing(fields["scope"], fields["ranges"], rounds.LIST_LIMIT)}
        if kind == "gossip_digest":
            self._refresh_authored()
            scope, slices = fields["scope"], fields["slices"]
            digests = [self.index.digest(scope, lo, hi, slices) for lo, hi in fields["ranges"]]
            same = fields["sum"] is not None and len(digests) == 1 and digest_sum(digests[0]) == fields["sum"]
            return {**({"same": True} if same else {"digests": digests}), **self.answer_digest_infos(frm, body)}
        if kind == "peer_infos":
            self.merge_infos(fields["infos"])
            for agent in fields["suspect"]:
                self.unreachable(agent)
            return self.answer_wanted_infos(fields["want"])
        if kind == "bootstrap":
            return self.answer_bootstrap(frm, body)
        assert kind == "gossip_fetch"
        self._refresh_authored()
        budget = self.network.switchboard.max_message_bytes // 2
        out: list[Any] = []
        size = 0
        # only what we offer in gossip: what we hold for others, and our own public ops
        for op in self.handler.ops([h for h in fields["hashes"] if h in self.index]).values():
            size += len(cjson.dumps(op))
            if out and size > budget:
                break
            out.append(op)
        return {"ops": out}
