"""Publishing happens after the reply, from the stored chain: a stop before it is done loses nothing."""

from __future__ import annotations

import json

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.instance.publish_dht_ops import CURSOR_KEY
from holochain.testing import DnaSpec, PlayerConfig, Scenario


async def test_publishing_resumes_from_the_stored_chain_after_a_restart(tmp_path, app_spec_dna):
    persistent = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage="sqlite")
    async with Scenario(tmp_path / "s", request_timeout=0.2) as scenario:
        players = await scenario.players({"alice": persistent, "bob": PlayerConfig({"app": DnaSpec(app_spec_dna)})})
        alice, bob = players["alice"], players["bob"]
        genesis_cursor = alice.instance("app").publisher.cursor
        assert genesis_cursor == 3  # dna, agent id, grant: published

        scenario.network.switchboard.drop(bob.info("app").agent_address)  # bob stops answering
        address = (await alice.call("app", "blog", "create_post", {"content": "survives"}))["Ok"]
        assert address  # the reply came: the post is durable, its publishing is still under way
        await alice.kill()
        scenario.network.switchboard.heal()
        assert bob.instance("app").shard.record(address) is None
        # what was stored at the stop: the chain, and the cursor before the unpublished records

        await alice.spawn()  # same chain, loaded from disk: publishing picks up at the cursor
        instance = alice.instance("app")
        assert int(instance.store.kv_get(CURSOR_KEY)) == genesis_cursor
        await scenario.consistency()
        assert instance.publisher.cursor == instance.chain.length == genesis_cursor + 2
        got = await bob.call("app", "blog", "get_post", {"post_address": address})
        assert json.loads(got["Ok"]["App"][1])["content"] == "survives"
        links = await bob.call("app", "blog", "posts_by_agent", {"agent": alice.info("app").agent_address})
        assert [l["address"] for l in links["Ok"]["links"]] == [address]


async def test_a_player_on_disk_comes_back_with_its_chain(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage="sqlite")
    async with Scenario(tmp_path / "s") as scenario:
        alice = await scenario.player("alice", config)
        await alice.call("app", "blog", "create_memo", {"content": "kept"})
        length = alice.instance("app").chain.length
        await alice.kill()
        await alice.spawn()
        assert alice.instance("app").chain.length == length
        assert (await alice.call("app", "blog", "my_memos", {}))["Ok"] == [
            (await alice.call("app", "blog", "memo_address", {"content": "kept"}))["Ok"]
        ]
        # init ran only at the first start; the seed it made lived in the agent's keystore, which
        # (as holochain-rust's test keystores) is rebuilt from the agent's root seed on every start
        assert "app_root_seed" not in (await alice.call("app", "converse", "list_secrets", {}))["Ok"]
