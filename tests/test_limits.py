"""Bounds on what clients and zomes may use: zome-call time (a zome that loops
forever or waits forever), connections per interface, and a client that never
reads its replies."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time

import aiohttp
import pytest

from conductor_setup import agent, dna, instance, interface, start_holochain, write_config
from conftest import package, write_project
from holochain.client import Client, RpcError

ZOME = """
from holochain import hdk
zome = hdk.Zome()

@zome.function(public=True)
def spin() -> int:
    n = 0
    while True:
        n += 1

@zome.function(public=True)
def spin_swallowing() -> int:
    while True:
        try:
            while True:
                pass
        except Exception:
            pass

@zome.function(public=True)
def wait_forever() -> None:
    hdk.sleep(3_000)

@zome.function(public=True)
def quick() -> str:
    return "quick"
"""


@pytest.fixture
def limited(spawn, tmp_path):
    def start(limits: str):
        dna_path = package(write_project(tmp_path, {"z": ZOME}))
        config = write_config(
            tmp_path / "c.toml",
            tmp_path / "data",
            agent("a"),
            dna("d", dna_path),
            instance("i", "d", "a", None),
            interface("w", ["i"]),
            extra=f"[limits]\n{limits}\n",
        )
        return start_holochain(spawn, config, tmp_path)

    return start


async def test_a_zome_that_loops_forever_is_stopped_and_everyone_else_served(limited):
    conductor = limited("max_blocking_ms = 400")
    url = f"ws://127.0.0.1:{conductor.port}"
    async with await Client.connect(url) as looping, await Client.connect(url) as other:
        started = time.monotonic()
        stuck = asyncio.ensure_future(looping.call_zome("i", "z", "spin"))
        await asyncio.sleep(0.05)
        assert await other.call_zome("i", "z", "quick") == {"Ok": "quick"}  # answered once the loop is stopped
        with pytest.raises(RpcError) as err:
            await stuck
        elapsed = time.monotonic() - started
        assert err.value.code == -32602
        assert "Zome function failure: zome call stopped after holding the conductor" in err.value.message
        assert "limit is 0.4s" in err.value.message
        assert elapsed < 3
        # a zome that swallows Exception cannot swallow the stop
        with pytest.raises(RpcError, match="zome call stopped"):
            await looping.call_zome("i", "z", "spin_swallowing")
        assert await looping.call_zome("i", "z", "quick") == {"Ok": "quick"}


async def test_a_zome_call_that_waits_too_long_times_out(limited):
    conductor = limited("max_call_ms = 500")
    async with await Client.connect(f"ws://127.0.0.1:{conductor.port}") as client:
        started = time.monotonic()
        with pytest.raises(RpcError, match="zome call stopped: it took longer than 0.5s"):
            await client.call_zome("i", "z", "wait_forever")
        assert time.monotonic() - started < 3
        assert await client.call_zome("i", "z", "quick") == {"Ok": "quick"}


async def test_connections_per_interface_are_bounded(limited):
    conductor = limited("max_connections = 3")
    url = f"ws://127.0.0.1:{conductor.port}"
    async with aiohttp.ClientSession() as session:
        open_ = [await session.ws_connect(url) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 503
        await open_[0].close()
        await asyncio.sleep(0.1)
        async with session.ws_connect(url) as again:  # a place is free again
            await again.send_str('{"jsonrpc":"2.0","id":1,"method":"info/instances"}')
            assert json.loads(await again.receive_str())["id"] == 1
        for ws in open_[1:]:
            await ws.close()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))


async def test_a_client_that_never_reads_cannot_grow_server_memory(limited):
    conductor = limited("max_in_flight = 64")
    before = rss_mb(conductor.proc.pid)
    reader, writer = await asyncio.open_connection("127.0.0.1", conductor.port)
    writer.write(
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{conductor.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
        + b"Sec-WebSocket-Key: "
        + base64.b64encode(os.urandom(16))
        + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await reader.readuntil(b"\r\n\r\n")
    payload = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "call",
            "params": {"instance_id": "i", "zome": "z", "function": "quick", "args": {"pad": "x" * 4000}},
        }
    ).encode()
    frame = bytes([0x81, 0xFE]) + struct.pack(">H", len(payload)) + b"\0\0\0\0" + payload
    sent = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # write until the server stops taking more
        writer.write(frame * 50)
        try:
            await asyncio.wait_for(writer.drain(), 0.5)
        except TimeoutError:
            break
        sent += 50
    grown = rss_mb(conductor.proc.pid) - before
    print(f"\nsent {sent * len(frame) / 1e6:.1f} MB of requests without reading; server grew {grown:.1f} MB")
    # (the client's socket stays open, stalled: its unsent bytes keep asyncio from closing it)
    writer.close()
    assert grown < 64, f"server grew by {grown:.0f} MB for a client that never reads"
    async with await Client.connect(f"ws://127.0.0.1:{conductor.port}") as client:  # still serving
        assert await client.call_zome("i", "z", "quick") == {"Ok": "quick"}
    # and a stalled client does not hold up a clean stop
    started = time.monotonic()
    assert conductor.stop() == 0
    assert time.monotonic() - started < 5
