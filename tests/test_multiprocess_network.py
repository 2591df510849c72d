"""Conductors in separate `holochain` processes sharing one DHT through a real nats-server.

Everything on 127.0.0.1 with ports picked at run time; every process (the
server included) is stopped by pid at the end.  Waiting is bounded polling
of what each conductor answers: the real state, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from conductor_setup import agent, dna, free_port, instance, interface, start_holochain, write_config
from conftest import HC
from holochain.client import Client
from holochain.testing.nats_server import NatsServer

NETWORK = {"heartbeat_interval_ms": 200, "gossip_interval_ms": 500, "request_timeout_ms": 5000}


@pytest.fixture
def nats(tmp_path):
    server = NatsServer.start(tmp_path / "nats", websocket=True)
    yield server
    server.stop()


def toml_network(table: dict) -> str:
    lines = ["[network]"]
    for key, value in table.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def conductor(spawn, tmp_path: Path, name: str, dna_path: Path, network: dict, *, persist: bool = False):
    """A `holochain` process running app_spec as agent `<name>`, on `network`."""
    root = tmp_path / name
    root.mkdir(exist_ok=True)
    config = write_config(
        root / "conductor-config.toml",
        root,
        agent("app", name),
        dna("app-spec", dna_path),
        instance("app", "app-spec", "app", root / "storage" if persist else None),
        interface("admin", ["app"], admin=True),
        extra=toml_network({**NETWORK, **network}),
    )
    return start_holochain(spawn, config, root)


async def call(proc, function: str, args: dict, zome: str = "blog"):
    async with await Client.connect(proc.url) as client:
        return await client.call_zome("app", zome, function, args)


async def eventually(proc, function: str, args: dict, check, timeout: float = 15.0, zome: str = "blog"):
    """Call until ``check(result)`` holds (bounded); returns the last result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with await Client.connect(proc.url) as client:
        while True:
            result = await client.call_zome("app", zome, function, args)
            if check(result):
                return result
            if loop.time() > deadline:
                raise AssertionError(f"{function}({args}) at {proc.args} never satisfied the check: {result}")
            await asyncio.sleep(0.05)


def content(result) -> str | None:
    ok = result.get("Ok")
    return json.loads(ok["App"][1])["content"] if ok else None


async def agent_address(proc) -> str:
    async with await Client.connect(proc.url) as client:
        return (await client.request("admin/agent/list", {}))[0]["public_address"]


async def test_an_entry_committed_at_one_conductor_is_gettable_at_all(spawn, tmp_path, nats, app_spec_dna):
    network = {"type": "nats", "servers": [nats.url]}
    alice, bob, carol, dave = (
        conductor(spawn, tmp_path, n, app_spec_dna, network) for n in ("alice", "bob", "carol", "dave")
    )
    created = await call(alice, "create_post", {"content": "across processes", "in_reply_to": None})
    address = created["Ok"]
    for proc in (bob, carol, dave):
        got = await eventually(proc, "get_post", {"post_address": address}, lambda r: r.get("Ok") is not None)
        assert content(got) == "across processes"
    # links propagate, and so do their removals and the entry's
    alice_address = await agent_address(alice)
    for proc in (bob, carol, dave):
        await eventually(
            proc,
            "posts_by_agent",
            {"agent": alice_address},
            lambda r: [l["address"] for l in r["Ok"]["links"]] == [address],
        )
    assert (await call(alice, "delete_post", {"content": "across processes"}))["Ok"] == address
    for proc in (bob, carol, dave):
        await eventually(proc, "posts_by_agent", {"agent": alice_address}, lambda r: r["Ok"]["links"] == [])
    assert (await call(alice, "delete_entry_post", {"post_address": address})).get("Ok")
    for proc in (bob, carol, dave):
        await eventually(proc, "get_post", {"post_address": address}, lambda r: r == {"Ok": None})


async def test_a_newcomer_gets_the_data_of_an_author_who_is_gone(spawn, tmp_path, nats, app_spec_dna):
    network = {"type": "nats", "servers": [nats.url], "redundancy": 2}
    alice, bob, carol = (conductor(spawn, tmp_path, n, app_spec_dna, network) for n in ("alice", "bob", "carol"))
    posts = [
        (await call(alice, "create_post", {"content": f"lasting {i}", "in_reply_to": None}))["Ok"] for i in range(4)
    ]
    for address in posts:  # held by two of the three: bob and carol each see every post
        for proc in (bob, carol):
            await eventually(proc, "get_post", {"post_address": address}, lambda r: r.get("Ok") is not None)
    alice.stop(signal.SIGKILL)  # the author is gone, without a word
    dave = conductor(spawn, tmp_path, "dave", app_spec_dna, network)
    for address in posts:
        got = await eventually(dave, "get_post", {"post_address": address}, lambda r: r.get("Ok") is not None)
        assert content(got).startswith("lasting")


async def test_a_conductor_starts_without_its_relay_and_catches_up(spawn, tmp_path, app_spec_dna):
    port = free_port()
    network = {"type": "nats", "servers": [f"nats://127.0.0.1:{port}"]}
    alice = conductor(spawn, tmp_path, "alice", app_spec_dna, network)  # nothing listens there yet
    created = await call(alice, "create_post", {"content": "written offline", "in_reply_to": None})
    assert content(await call(alice, "get_post", {"post_address": created["Ok"]})) == "written offline"
    server = NatsServer.start(tmp_path / "late-nats", port=port)
    try:
        bob = conductor(spawn, tmp_path, "bob", app_spec_dna, network)
        got = await eventually(bob, "get_post", {"post_address": created["Ok"]}, lambda r: r.get("Ok") is not None)
        assert content(got) == "written offline"
    finally:
        server.stop()


async def test_holochain_rusts_sim2h_config_connects_through_the_websocket_listener(
    spawn, tmp_path, nats, app_spec_dna
):
    network = {"type": "sim2h", "sim2h_url": nats.ws_url}  # as tryorama writes it, pointed at our relay
    alice, bob = (conductor(spawn, tmp_path, n, app_spec_dna, network) for n in ("alice", "bob"))
    created = await call(alice, "create_post", {"content": "via sim2h_url", "in_reply_to": None})
    got = await eventually(bob, "get_post", {"post_address": created["Ok"]}, lambda r: r.get("Ok") is not None)
    assert content(got) == "via sim2h_url"
    ping = await call(bob, "ping", {"to_agent": await agent_address(alice), "message": "hello"})
    assert ping["Ok"]["body"].startswith("got hello from ")


async def test_hc_run_networked_joins_the_relay(spawn, tmp_path, nats, app_spec_dna):
    runs = [
        spawn(
            [
                HC,
                "run",
                "--port",
                "0",
                "--dna",
                str(app_spec_dna),
                "--agent-name",
                name,
                "--networked",
                "--sim2h-server",
                nats.url,
            ],
            tmp_path,
            ready="Holochain development conductor started",
        )
        for name in ("alice", "bob")
    ]
    for proc in runs:
        proc.ports["run"] = int(proc.stdout_lines[-1].rsplit(" ", 1)[1])
    alice, bob = runs

    async def hc_call(proc, function, args):
        async with await Client.connect(f"ws://127.0.0.1:{proc.ports['run']}") as client:
            return await client.call_zome("test-instance", "blog", function, args)

    created = await hc_call(alice, "create_post", {"content": "hc run, networked", "in_reply_to": None})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        got = await hc_call(bob, "get_post", {"post_address": created["Ok"]})
        if got.get("Ok") or loop.time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert content(got) == "hc run, networked"


def test_hc_run_network_flags(tmp_path):
    import subprocess

    from holochain.cli.run import network_table

    assert network_table(None, ()) is None
    assert network_table("nats", ()) == {"type": "nats", "servers": ["nats://127.0.0.1:4222"]}
    assert network_table("nats", ("nats://a:1", "nats://b:2")) == {
        "type": "nats",
        "servers": ["nats://a:1", "nats://b:2"],
    }
    assert network_table("sim2h", ()) == {"type": "sim2h", "sim2h_url": "ws://localhost:9000"}
    done = subprocess.run(
        [HC, "run", "--server", "nats://127.0.0.1:4222"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1 and "--server needs --networked" in done.stderr
