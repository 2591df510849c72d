"""A bare agent in its own process, for tests that SIGKILL one: it joins a space
on a NATS relay with an echo inbox and serves until killed (60 s at most).

    python nats_peer.py <server url> <space> <test agent name> <heartbeat s>
"""

from __future__ import annotations

import asyncio
import sys

from holochain.core.crypto import AgentKey
from holochain.net.nats import NatsOptions, NatsSwitchboard


class Echo:
    def __init__(self, key: AgentKey) -> None:
        self.key = key

    async def on_message(self, sender: str, data: bytes) -> bytes:
        return b"echo:" + data

    def on_membership(self, event: str, agent: str) -> None:
        pass

    def sign(self, text: str) -> str:
        return self.key.sign(text)


async def main(url: str, space: str, name: str, heartbeat: float) -> None:
    key = AgentKey.for_test_agent(name)
    board = NatsSwitchboard(NatsOptions([url], heartbeat=heartbeat), name=name)
    await board.join(space, key.address, Echo(key))
    while not board.connected:
        await asyncio.sleep(0.01)
    print("READY", flush=True)
    await asyncio.sleep(60)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
