"""WebAssembly zomes on the DHT: holders validate with the zome's callbacks, peers read what others wrote."""

from __future__ import annotations

import json

import pytest

from holochain.testing import DnaSpec, PlayerConfig
from wat_zomes import proxy_zome, wasm_dna

NOTE = {"App": ["note", '"shared"']}
GET = {"status_request": "Latest", "entry": True, "headers": False, "timeout": 5000}


@pytest.fixture
def wat_dna(tmp_path):
    path = tmp_path / "wat.dna.json"
    path.write_text(json.dumps(wasm_dna(proxy_zome())), encoding="utf-8")
    return path


async def test_a_peer_reads_an_entry_a_wasm_zome_committed(scenario, wat_dna):
    config = PlayerConfig({"app": DnaSpec(wat_dna)})
    players = await scenario.players({"alice": config, "bob": config})
    alice, bob = players["alice"], players["bob"]
    committed = await alice.call("app", "wat", "commit", {"entry": NOTE})
    address = json.loads(committed["value"])["address"]
    await scenario.consistency()
    assert bob.instance("app").shard.record(address) is not None  # held: validated by bob's WASM callback
    got = await bob.call("app", "wat", "get", {"address": address, "options": GET})
    assert json.loads(got["value"])["result"]["Single"]["entry"] == NOTE
