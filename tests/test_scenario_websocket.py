"""Scenario players behind real WebSocket interfaces, driven by real clients."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from app_spec_support import HOLO_WORLD_POST, app_spec_dna  # noqa: F401  (fixture)
from conftest import JS_DIR
from holochain.client import Client, ClientError
from holochain.testing import DnaSpec, PlayerConfig

GET_POST_JS = """
const WebSocket = require('rpc-websockets').Client
const ws = new WebSocket(process.env.HC_URL)
ws.on('open', () => {
  ws.call('call', {instance_id: 'app', zome: 'blog', function: 'get_post',
                   args: {post_address: process.env.ADDRESS}})
    .then(result => { console.log(result); ws.close() })
    .catch(err => { console.log(JSON.stringify({error: err})); process.exit(1) })
})
"""


async def test_players_over_websocket_share_posts(scenario, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, websocket=True)
    players = await scenario.players({"alice": config, "bob": config})
    alice, bob = players["alice"], players["bob"]
    async with await Client.connect(alice.url) as client:
        assert await client.info_instances() == [{"id": "app", "dna": "app-dna", "agent": "app"}]
        created = await client.call_zome("app", "blog", "create_post", {"content": "Holo world", "in_reply_to": None})
        assert created == {"Ok": HOLO_WORLD_POST}
    await scenario.consistency()

    # bob's interface, through the npm rpc-websockets client the holochain-rust guide uses
    process = await asyncio.create_subprocess_exec(
        "node",
        "-e",
        GET_POST_JS,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(JS_DIR / "node_modules"), "HC_URL": bob.url, "ADDRESS": HOLO_WORLD_POST},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip())
    assert json.loads(result["Ok"]["App"][1]) == {"content": "Holo world", "date_created": "now"}


async def test_a_killed_players_interface_closes(scenario, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, websocket=True)
    alice = await scenario.player("alice", config)
    url = alice.url
    await alice.kill()
    with pytest.raises(ClientError, match="cannot connect"):
        await Client.connect(url, timeout=5)
