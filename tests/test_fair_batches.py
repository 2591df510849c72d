"""Batches get no more than their members would one by one: each member takes a place of
``max_in_flight``, other connections are served between members, and ``max_connections`` holds
for HTTP too.  Before: a batch took one place however large it was (20,000 concurrent calls on
one connection), ran its CPU-bound members back to back (every other connection waited), and
HTTP took every connection offered.

Concurrency and turns are read from the order of the signals the zome emits (one watcher
connection sees them in the order they were emitted), not from a clock."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from conductor_setup import agent, dna, instance, interface, start_holochain, write_config
from conftest import package, write_project
from holochain.client import Client

ZOME = """
from holochain import hdk
zome = hdk.Zome()

@zome.function(public=True)
def nap(n: int) -> int:
    hdk.emit_signal("start", {"n": n})
    hdk.sleep(0.1)
    hdk.emit_signal("end", {"n": n})
    return n

@zome.function(public=True)
def busy(n: int) -> int:
    hdk.emit_signal("busy", {"n": n})
    total = 0
    for i in range(1_500_000):
        total += i
    return n

@zome.function(public=True)
def mark() -> str:
    hdk.emit_signal("mark", {})
    return "marked"
"""


@pytest.fixture
def conductor(spawn, tmp_path):
    dna_path = package(write_project(tmp_path, {"z": ZOME}))
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", dna_path),
        instance("i", "d", "a", None),
        interface("w", ["i"]),
        interface("h", ["i"], kind="http"),
        extra="[limits]\nmax_in_flight = 3\nmax_connections = 8\nmax_blocking_ms = 10000\n",
    )
    return start_holochain(spawn, config, tmp_path)


def batch(function: str, count: int) -> str:
    return json.dumps(
        [
            {
                "jsonrpc": "2.0",
                "id": n,
                "method": "call",
                "params": {"instance_id": "i", "zome": "z", "function": function, "args": {"n": n}},
            }
            for n in range(count)
        ]
    )


async def batch_reply(ws: aiohttp.ClientWebSocketResponse) -> list:
    """The batch's answer (signal frames on the same connection are skipped)."""
    while True:
        message = json.loads(await ws.receive_str(timeout=60))
        if isinstance(message, list):
            return message


async def signals_until(watcher: Client, done: asyncio.Future, settle: float = 0.3) -> list[tuple[str, int | None]]:
    seen = []
    while True:
        try:
            item = await asyncio.wait_for(watcher.signals.get(), settle if done.done() else 30)
        except TimeoutError:
            return seen
        signal = item["signal"]
        seen.append((signal["name"], json.loads(signal["arguments"]).get("n")))


async def test_each_batch_member_takes_a_place_of_max_in_flight(conductor):
    url = f"ws://127.0.0.1:{conductor.ports['w']}"
    async with await Client.connect(url) as watcher, aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await ws.send_str(batch("nap", 12))
            reply = asyncio.ensure_future(batch_reply(ws))
            seen = await signals_until(watcher, reply)
            answered = await reply
    assert sorted(r["result"] for r in answered) == sorted(
        json.dumps({"Ok": n}, separators=(",", ":")) for n in range(12)
    )
    running = most = 0
    for name, _ in seen:
        running += 1 if name == "start" else -1
        most = max(most, running)
    assert len(seen) == 24
    assert most == 3, seen  # never more than max_in_flight at once, and that many do run together


async def test_other_connections_are_served_between_a_batchs_members(conductor):
    url = f"ws://127.0.0.1:{conductor.ports['w']}"
    async with (
        await Client.connect(url) as watcher,
        await Client.connect(url) as other,
        aiohttp.ClientSession() as session,
        session.ws_connect(url) as ws,
    ):
        await ws.send_str(batch("busy", 6))
        first = await asyncio.wait_for(watcher.signals.get(), 30)  # the batch has started
        assert first["signal"]["name"] == "busy"
        assert await other.call_zome("i", "z", "mark") == {"Ok": "marked"}
        replies = await batch_reply(ws)
        assert [r["result"] for r in replies] == [json.dumps({"Ok": n}, separators=(",", ":")) for n in range(6)]
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        seen = [("busy", 0)] + await signals_until(watcher, done)
    names = [name for name, _ in seen]
    assert sorted(n for name, n in seen if name == "busy") == list(range(6))
    assert names.index("mark") < 3, seen  # served after at most two more members, not after all six


async def test_max_connections_holds_for_http(conductor):
    port = conductor.ports["h"]
    body = b'{"jsonrpc":"2.0","id":1,"method":"info/instances"}'
    request = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    held = []
    statuses = []
    try:
        for _ in range(12):  # keep-alive connections, each with one answered request
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            held.append(writer)
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            statuses.append(int(head.split()[1]))
    finally:
        for writer in held:
            writer.close()
    assert statuses[:8] == [200] * 8
    assert statuses[8:] == [503] * 4
    await asyncio.sleep(0.2)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/json"}) as r,
    ):
        assert r.status == 200  # places are free again once those connections are gone
