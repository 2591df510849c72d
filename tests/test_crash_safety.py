"""Kill -9 under load: what a client was told is committed is there, exactly once.

`hc run --persist` is killed with SIGKILL at random moments while a client keeps
many committing calls in flight.  After each restart the chain must load (every
header's hash, links and signature are verified at start), and every commit
whose reply the client received must be on the chain exactly once.  The same for an
encrypted (SQLCipher) store, under `holochain -c`.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal

import pytest

from conductor_setup import agent, dna, instance, interface, open_db, write_config
from conftest import HC, HOLOCHAIN
from holochain.client import Client, ClientError, RpcError
from holochain.core import json as cjson
from holochain.core.header import ChainHeader

KILLS = int(os.environ.get("HC_CRASH_KILLS", "6"))


async def _load(url: str, acknowledged: dict[str, str], prefix: str, stop: asyncio.Event) -> None:
    try:
        async with await Client.connect(url, timeout=10) as client:
            counter = 0

            async def one() -> None:
                nonlocal counter
                while not stop.is_set():
                    counter += 1
                    content = f"{prefix}-{counter}"
                    try:
                        result = await client.call_zome("test-instance", "blog", "create_post", {"content": content})
                    except (ClientError, RpcError, ConnectionError):
                        return
                    acknowledged[content] = result["Ok"]

            await asyncio.gather(*(one() for _ in range(16)))
    except ClientError:
        return


def _chain(path, key_of: str | None) -> list[tuple[int, str, str]]:
    db = open_db(path, key_of)
    try:
        return db.execute("SELECT seq, header, entry_address FROM chain ORDER BY seq").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_sigkill_under_load_loses_no_acknowledged_commit(spawn, blog_dna, tmp_path, encrypted):
    if encrypted:  # the instance of `hc run --persist`, on an encrypted store, under `holochain -c`
        config = write_config(
            tmp_path / "c.toml",
            tmp_path / "data",
            agent("alice"),
            dna("blog", blog_dna),
            instance("test-instance", "blog", "alice", tmp_path / ".hc", encrypted=True),
            interface("ws", ["test-instance"]),
        )
        command = [HOLOCHAIN, "-c", str(config)]
    else:
        command = [HC, "run", "--persist", "--port", "0", "--dna", str(blog_dna)]
    rng = random.Random(1234)
    acknowledged: dict[str, str] = {}
    for round_ in range(KILLS):
        conductor = spawn(command, tmp_path)
        stop = asyncio.Event()
        load = asyncio.ensure_future(_load(conductor.url, acknowledged, f"r{round_}", stop))
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        os.killpg(conductor.proc.pid, signal.SIGKILL)
        conductor.proc.wait(10)
        stop.set()
        await asyncio.wait_for(load, 15)

    # the chain on disk: linear, and every acknowledged commit present exactly once
    rows = _chain(tmp_path / ".hc" / "instance.sqlite3", "alice" if encrypted else None)
    assert [r[0] for r in rows] == list(range(len(rows)))
    for (_, prev, _), (_, cur, _) in zip(rows, rows[1:]):
        assert ChainHeader.from_json(cjson.loads(cur)).link == ChainHeader.from_json(cjson.loads(prev)).address
    on_chain = [r[2] for r in rows]
    assert acknowledged, "the load never got a reply; the test measured nothing"
    print(f"{KILLS} kills, {len(acknowledged)} acknowledged commits, {len(rows)} records on the chain")
    for content, address in acknowledged.items():
        assert on_chain.count(address) == 1, content

    # and a restarted conductor loads it (verifying every record) and serves it
    conductor = spawn(command, tmp_path)
    async with await Client.connect(conductor.url) as client:
        for address in list(acknowledged.values())[-20:]:
            got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": address})
            assert got["Ok"] is not None
