"""What peers may ask of an instance: its node's :class:`~holochain.net.dht.NodeHandler`.

Ops to hold go to the holder's workflow (:mod:`.incoming_dht_ops`); entry
and link queries are answered from the shard; direct messages run the
zome's ``receive`` callback; validation packages are built from our chain;
gossip lists and fetches our held and authored ops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from ..core import json as cjson
from ..core.dht_ops import DhtOp
from ..core.links import LinkOptionsError, parse_link_options
from ..net import DirectMessageError
from ..net.dht import NodeHandler
from ..ribosome import runner
from .app_validation import AppValidation
from .incoming_dht_ops import Incoming
from .publish_dht_ops import Publisher
from .validation_package import ValidationPackage
from .workspace import Workspace

__all__ = ["PeerRequests"]

log = logging.getLogger(__name__)

_RECEIVE_TIMEOUT = 60.0  # holochain-rust: the receiver waits at most 60 s to reply


class PeerRequests(NodeHandler):
    """The instance's answers to its peers, over the workspace and the holder's workflow."""

    def __init__(self, ws: Workspace, incoming: Incoming, publisher: Publisher, validation: AppValidation) -> None:
        self.ws = ws
        self.incoming = incoming
        self.publisher = publisher
        self.validation = validation

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        return await self.incoming.hold_ops(ops, sender)

    def answer_entry(self, address: str) -> dict[str, Any] | None:
        return self.ws.shard.answer_entry(address)

    def answer_links(self, base: str, query: dict[str, Any]) -> dict[str, Any] | None:
        link_type, tag = query.get("link_type"), query.get("tag")
        if (link_type is not None and not isinstance(link_type, str)) or (tag is not None and not isinstance(tag, str)):
            raise TypeError("link_type and tag are strings or null")
        try:
            options = parse_link_options(query.get("options"))
        except LinkOptionsError as exc:
            raise ValueError(str(exc)) from None
        return self.ws.shard.answer_links(base, link_type, tag, options, bool(query.get("count")))

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str:
        if not self.ws.ribosome.has_receive(zome):
            raise DirectMessageError(f"Error calling receive callback: zome '{zome}' has no receive callback")
        host = self.ws.zome_host(zome)
        try:
            return await asyncio.wait_for(self.ws.ribosome.receive(zome, sender, payload, host), _RECEIVE_TIMEOUT)
        except TimeoutError:
            raise DirectMessageError("Error calling receive callback: it did not answer within 60 s") from None
        except runner.ZomeCallTimeout as exc:
            raise DirectMessageError(f"Error calling receive callback: {exc}") from None
        except Exception as exc:
            log.warning("instance '%s': receive callback raised %s", self.ws.instance_id, exc, exc_info=exc)
            raise DirectMessageError(f"Error calling receive callback: {type(exc).__name__}: {exc}") from None

    def validation_package(self, header_address: str) -> dict[str, Any] | None:
        seq = self.ws.chain.seq_of(header_address)
        if seq is None:
            return None
        record = self.ws.chain.record(seq)
        if record is None or record.entry is None:
            return None
        definition = self.validation.package_definition(record.entry)
        package = ValidationPackage(self.ws.chain, record.header, definition, self.ws.dna, upto=seq)
        return package.to_json()

    def held_items(self) -> Iterator[tuple[str, str, str]]:
        for raw in self.ws.shard.held_ops():
            op = DhtOp.from_json(raw)
            yield op.hash, op.basis, op.author

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        return self.publisher.authored_items(start)

    def ops(self, op_hashes: list[str]) -> dict[str, Any]:
        """Our ops by hash: contents before what depends on them (links, updates, deletions)."""
        found = []
        for op_hash in op_hashes:
            text = self.ws.store.get_content(op_hash)
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
