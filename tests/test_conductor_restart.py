"""Restarting `holochain -c`: committed entries and admin changes survive a clean stop
and a `kill -9`, and a damaged chain is refused at start, never served; for plain and for
encrypted (SQLCipher) stores alike."""

from __future__ import annotations

import signal

import pytest

from conductor_setup import (
    agent,
    blog_copy,
    dna,
    instance,
    interface,
    open_db,
    run_holochain,
    start_holochain,
    write_config,
)
from holochain.client import Client


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
def setup(request, tmp_path, spawn):
    encrypted = request.param
    blog = blog_copy(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("blog", blog),
        instance("app", "blog", "alice", data / "app", encrypted=encrypted),
        interface("admin", ["app"], admin=True),
    )
    return {
        "config": config,
        "data": data,
        "tmp": tmp_path,
        "start": lambda: start_holochain(spawn, config, tmp_path),
        "key_of": "alice" if encrypted else None,  # the test agent whose key opens the store
    }


async def commit_posts(port: int, prefix: str, n: int) -> list[str]:
    async with await Client.connect(f"ws://127.0.0.1:{port}") as admin:
        return [
            (await admin.call_zome("app", "blog", "create_post", {"content": f"{prefix} {i}"}))["Ok"] for i in range(n)
        ]


async def read_posts(port: int, addresses: list[str]) -> list[str]:
    async with await Client.connect(f"ws://127.0.0.1:{port}") as admin:
        out = []
        for address in addresses:
            got = await admin.call_zome("app", "blog", "get_post", {"post_address": address})
            out.append(got["Ok"]["App"][1])
        return out


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
async def test_entries_and_admin_changes_survive_a_restart(setup, how):
    conductor = setup["start"]()
    port = conductor.ports["admin"]
    posts = await commit_posts(port, "before", 5)
    async with await Client.connect(f"ws://127.0.0.1:{port}") as admin:
        await admin.request("test/agent/add", {"id": "bob", "name": "bob"})
        await admin.request("admin/instance/add", {"id": "app2", "dna_id": "blog", "agent_id": "bob"})
    status = conductor.stop(how)
    assert status == (0 if how != signal.SIGKILL else -signal.SIGKILL)
    if how != signal.SIGKILL:
        assert "Gracefully shutting down conductor..." in conductor.output()[0]

    again = setup["start"]()
    port = again.ports["admin"]
    assert await read_posts(port, posts) == [f'{{"content":"before {i}","date_created":"now"}}' for i in range(5)]
    async with await Client.connect(f"ws://127.0.0.1:{port}") as admin:
        assert [i["id"] for i in await admin.request("admin/instance/list", {})] == ["app", "app2"]
        dump = await admin.request("debug/state_dump", {"instance_id": "app"})
        assert len(dump["source_chain"]) == 2 + 5  # AgentId, grant, the posts (Dna omitted)
        # the chain goes on from where it was
        more = await admin.call_zome("app", "blog", "create_post", {"content": "after"})
        assert more["Ok"].startswith("Qm")


async def test_a_damaged_chain_is_refused_at_start_and_left_as_it_is(setup):
    conductor = setup["start"]()
    await commit_posts(conductor.ports["admin"], "x", 2)
    assert conductor.stop() == 0
    db = setup["data"] / "app" / "instance.sqlite3"
    with open_db(db, setup["key_of"]) as conn:
        header = conn.execute("SELECT header FROM chain WHERE seq = 3").fetchone()[0]
        conn.execute("UPDATE chain SET header = ? WHERE seq = 3", (header.replace('"timestamp":"', '"timestamp":"1'),))
    damaged = rows(db, setup["key_of"])
    done = run_holochain(setup["config"], setup["tmp"])
    assert done.returncode == 2
    assert "source chain of instance 'app' is damaged at record 3" in done.stderr
    assert rows(db, setup["key_of"]) == damaged  # nothing rewritten, nothing dropped


def rows(db, key_of: str | None) -> list:
    with open_db(db, key_of) as conn:
        return (
            conn.execute("SELECT * FROM chain ORDER BY seq").fetchall()
            + conn.execute("SELECT * FROM contents ORDER BY address").fetchall()
        )


async def test_sigterm_closes_client_connections_and_exits_zero(setup):
    import aiohttp

    conductor = setup["start"]()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"ws://127.0.0.1:{conductor.ports['admin']}")
        conductor.proc.send_signal(signal.SIGTERM)
        msg = await ws.receive(timeout=10)
        while msg.type == aiohttp.WSMsgType.TEXT:  # stats frames may come first
            msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        if msg.type == aiohttp.WSMsgType.CLOSE:
            assert msg.data == 1001  # going away
    assert conductor.proc.wait(15) == 0
