"""Signals from `holochain -c`: bare InstanceSignal frames to the WebSocket clients of
interfaces exposing the instance and of admin interfaces, consistency pairs and
stats on admin interfaces, nothing over HTTP, and bounded memory for clients
that do not read."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time

import aiohttp
import orjson
import pytest

from conductor_setup import agent, dna, instance, interface, signal_dna, start_holochain, write_config
from holochain.client import Client


@pytest.fixture
def conductor(tmp_path, spawn):
    talk = signal_dna(tmp_path)
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("alice"),
        agent("bob"),
        dna("talk", talk),
        instance("a", "talk", "alice", None),
        instance("b", "talk", "bob", None),
        interface("admin", [], admin=True),
        interface("ws-a", [("a", "mine")]),
        interface("ws-b", ["b"]),
        interface("http-a", ["a"], kind="http"),
        extra="[signals]\ntrace = false\nconsistency = true\n",
    )
    return start_holochain(spawn, config, tmp_path)


async def frames(ws: aiohttp.ClientWebSocketResponse, wanted, timeout: float = 5.0) -> list[dict]:
    """Read frames until ``wanted(all_so_far)`` holds (bounded in time)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while not wanted(got):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"frames so far: {got}")
        msg = await ws.receive(timeout=remaining)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        got.append(orjson.loads(msg.data))
    return got


def user_signals(got: list[dict]) -> list[dict]:
    return [f for f in got if f.get("type") == "InstanceSignal" and f["signal"]["signal_type"] == "User"]


async def test_user_signal_reaches_exposing_and_admin_interfaces_only(conductor):
    async with aiohttp.ClientSession() as session:
        ws_a = await session.ws_connect(f"ws://127.0.0.1:{conductor.ports['ws-a']}")
        ws_b = await session.ws_connect(f"ws://127.0.0.1:{conductor.ports['ws-b']}")
        admin = await session.ws_connect(f"ws://127.0.0.1:{conductor.ports['admin']}")
        await ws_a.send_str(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "call",
                    "params": {
                        "instance_id": "mine",
                        "zome": "talk",
                        "function": "shout",
                        "args": {"message": "hello"},
                    },
                }
            )
        )
        got_a = await frames(ws_a, lambda got: any(f.get("id") == 1 for f in got) and user_signals(got))
        expected = {
            "type": "InstanceSignal",
            "signal": {"signal_type": "User", "name": "shouted", "arguments": '{"message":"hello"}'},
            "instance_id": "a",
        }  # the real id, not the interface's alias
        assert user_signals(got_a) == [expected]
        # no JSON-RPC reply on a non-admin interface carries consistency frames
        assert all(f.get("signal", {}).get("signal_type") != "Consistency" for f in got_a)
        got_admin = await frames(admin, lambda got: user_signals(got))
        assert user_signals(got_admin) == [expected]
        # ws-b exposes only instance b: it gets nothing but silence
        with pytest.raises(asyncio.TimeoutError):
            await ws_b.receive(timeout=0.8)
        for ws in (ws_a, ws_b, admin):
            await ws.close()


async def test_consistency_pairs_and_stats_on_admin_interfaces(conductor):
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['ws-b']}") as app:
            assert await app.call_zome("b", "talk", "echo", {"value": "x"}) == {"Ok": "x"}
            with pytest.raises(Exception):
                await app.call_zome("b", "talk", "nope", {})
        seen: list[dict] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            seen.append(await asyncio.wait_for(admin.signals.get(), deadline - time.monotonic()))
            consistency = [f["signal"] for f in seen if f.get("type") == "InstanceSignal"]
            stats = [f for f in seen if f.get("type") == "InstanceStats"]
            if len(consistency) >= 4 and stats:
                break
        assert [json.loads(c["event"]) for c in consistency[:4]] == [
            {"SignalZomeFunctionCall": ["talk/echo", {"prefix": 0, "offset": 1}]},
            {"ReturnZomeFunctionResult": ["talk/echo", {"prefix": 0, "offset": 1}]},
            {"SignalZomeFunctionCall": ["talk/nope", {"prefix": 0, "offset": 2}]},
            {"ReturnZomeFunctionResult": ["talk/nope", {"prefix": 0, "offset": 2}]},
        ]
        # every pending item is satisfied by a later event of the same node (hachiko's Source group)
        assert consistency[0]["pending"] == [{"event": consistency[1]["event"], "group": "Source"}]
        assert consistency[1]["pending"] == []
        assert stats[0]["instance_stats"] == {
            name: {
                "number_held_entries": 3,
                "number_held_aspects": 3,
                "number_pending_validations": 0,
                "number_delayed_validations": 0,
                "number_running_zome_calls": 0,
                "offline": False,
            }
            for name in ("a", "b")
        }  # genesis: Dna, AgentId and the public grant, each with its header


async def test_http_interfaces_carry_no_signals(conductor):
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"http://127.0.0.1:{conductor.ports['http-a']}",
            json={
                "jsonrpc": "2.0",
                "id": 7,
                "method": "call",
                "params": {"instance_id": "a", "zome": "talk", "function": "shout", "args": {"message": "x"}},
            },
        ) as r:
            body = await r.text()
    assert json.loads(body) == {"jsonrpc": "2.0", "result": '{"Ok":"x"}', "id": 7}
    assert "signal" not in body


def _raw_websocket(port: int) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response.split(b"\r\n")[0]
    return sock


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


async def test_a_client_that_never_reads_signals_cannot_grow_the_server(conductor):
    stalled = _raw_websocket(conductor.ports["ws-a"])
    payload = "y" * 200_000
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['ws-a']}") as admin:
        rss_before = _rss_kib(conductor.proc.pid)
        # each call emits a 200 kB signal to the stalled client: 300 calls = 60 MB, far past the limit
        for _ in range(30):
            await asyncio.gather(*(admin.call_zome("mine", "talk", "shout", {"message": payload}) for _ in range(10)))
            while not admin.signals.empty():  # this client reads its signals
                admin.signals.get_nowait()
        grown = _rss_kib(conductor.proc.pid) - rss_before
        # the stalled connection was cut: reading it ends after what was already on its way
        stalled.settimeout(2)
        total = 0
        deadline = time.monotonic() + 30
        closed = False
        while time.monotonic() < deadline:
            try:
                chunk = stalled.recv(1 << 20)
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            total += len(chunk)
        assert closed, f"still open after reading {total} bytes"
        assert total < 40_000_000
        assert grown < 48 * 1024, f"server grew by {grown} KiB"
        # and the conductor serves on
        assert await admin.call_zome("mine", "talk", "echo", {"value": "still here"}) == {"Ok": "still here"}
    stalled.close()
