"""A bare DHT node in its own process, for tests that SIGKILL one: it joins a space
on a NATS relay with a node that holds nothing and serves until killed (60 s at most).

    python nats_peer.py <server url> <space> <test agent name> <gossip interval s>
"""

from __future__ import annotations

import asyncio
import sys

from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp
from holochain.net import Network
from holochain.net.nats import NatsOptions, NatsSwitchboard


class Bare:
    """Holds nothing, answers every query with "not here" (also the conformance tests' idle handler)."""

    async def hold_ops(self, ops, sender):
        return [[DhtOp.from_json(op).hash, "rejected: this peer holds nothing"] for op in ops]

    def answer_entry(self, address):
        return None

    def answer_links(self, base, query):
        return None

    async def receive_direct(self, sender, zome, payload):
        return "echo:" + payload

    def validation_package(self, header_address):
        return None

    def held_items(self):
        return []

    def authored_items(self, start):
        return [], start

    def ops(self, op_hashes):
        return {}

    def has_op(self, op_hash):
        return False

    def peers_changed(self):
        pass


async def main(url: str, space: str, name: str, gossip: float) -> None:
    key = AgentKey.for_test_agent(name)
    board = NatsSwitchboard(NatsOptions([url], heartbeat=0.5), name=name)
    network = Network(board, gossip_interval=gossip, request_timeout=2.0, owned=True)
    await network.join(space, key, Bare())
    while not board.connected:
        await asyncio.sleep(0.01)
    print("READY", flush=True)
    await asyncio.sleep(60)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
