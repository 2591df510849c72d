"""app_spec ``test/files/test.js``, ``offline-validation.js``, ``multi-dna.js``, ``offline.js``,
and the historical ``test.js`` assertions (show_env, check_sum, content too long, signals)."""

from __future__ import annotations

import asyncio
import json

import pytest

from app_spec_support import ALICE, BOB, HOLO_WORLD_POST, app_spec_dna_both, one, two  # noqa: F401  (fixtures)
from holochain.core.crypto import encode_call_data_for_signing


async def test_agent_id(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    assert players["alice"].info("app").agent_address == ALICE
    assert players["bob"].info("app").agent_address == BOB


async def test_send_ping(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    result = await alice.call("app", "blog", "ping", {"to_agent": bob.info("app").agent_address, "message": "hello"})
    assert result == {"Ok": {"msg_type": "response", "body": f"got hello from {alice.info('app').agent_address}"}}


async def test_a_waiting_call_does_not_block_others(scenario, one):
    """test.js "multiple zome calls": a ping that waits on the network lets a quick call finish first."""
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    scenario.network.switchboard.delay(0.3)
    order = []

    async def ping():
        await alice.call("app", "blog", "ping", {"to_agent": bob.info("app").agent_address, "message": "hello"})
        order.append(2)

    async def properties():
        assert await alice.call("app", "blog", "get_test_properties", {}) == {"Ok": "test-property-value"}
        order.append(1)

    await asyncio.gather(ping(), properties())
    assert order == [1, 2]


async def test_ping_to_a_killed_player_fails_clearly(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    await bob.kill()
    result = await alice.call("app", "blog", "ping", {"to_agent": bob.info("app").agent_address, "message": "hello"})
    error = json.loads(result["Err"]["Internal"])
    assert "not reachable" in error["kind"]["ErrorGeneric"]


async def test_ping_timeout_is_holochain_rusts_timeout(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    instance = alice.instance("app")
    scenario.network.switchboard.drop(bob.info("app").agent_address)
    # blog.ping waits 20 s; ask the host directly with a short timeout
    with pytest.raises(Exception) as caught:
        await _in_zome_call(instance, lambda host: host.send(bob.info("app").agent_address, "{}", 50))
    error = json.loads(caught.value.message)
    assert error["kind"] == {"Timeout": "timeout src: crates/core/src/network/reducers/send_direct_message.rs:82"}


async def _in_zome_call(instance, fn):
    from holochain.ribosome import runner
    from holochain.ribosome.host_api import CallHost

    return await runner.run_to_completion(lambda: fn(CallHost(instance.host, "blog", None)), None)


async def test_show_env(scenario, one):
    alice = await scenario.player("alice", one)
    env = (await alice.call("app", "blog", "show_env", {}))["Ok"]
    instance = alice.instance("app")
    assert env["dna_name"] == "HDK-spec-rust"
    assert env["dna_address"] == instance.dna_address
    assert env["agent_id"] == json.dumps({"nick": "alice::app", "pub_sign_key": ALICE}, separators=(",", ":"))
    assert env["agent_address"] == ALICE
    assert env["properties"] == '{"test_property":"test-property-value"}'
    # the conductor signed "show_env:{}" for its own agent (a reproduced holochain-rust vector)
    assert env["cap_request"]["cap_token"] == instance.public_token
    # holochain-rust's historical app_spec value for this signature
    assert env["cap_request"]["provenance"] == [
        ALICE,
        "HFQkrDmnSOcmGQnYNtaYZWj89rlIQVFg0PpEoeFyx/Qw6Oizy5PI+tcsO8wYrllkuVPPzF5P3pvbCctKkfyGBg==",
    ]
    assert env["cap_request"]["provenance"][1] == instance.agent.sign(encode_call_data_for_signing("show_env", "{}"))


async def test_check_sum_calls_another_zome(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "blog", "check_sum", {"num1": 2, "num2": 2}) == {"Ok": 4}


async def test_post_max_content_size(scenario, one):
    alice = await scenario.player("alice", one)
    length = alice.instance("app").chain.length
    result = await alice.call("app", "blog", "create_post", {"content": "Ä" * 140, "in_reply_to": None})  # 280 bytes
    assert json.loads(result["Err"]["Internal"])["kind"] == {"ValidationFailed": "Content too long"}
    assert alice.instance("app").chain.length == length


async def test_posts_by_unknown_agent_is_empty(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "blog", "posts_by_agent", {"agent": "Bob"}) == {"Ok": {"links": []}}


async def test_emit_signal(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "simple", "test_emit_signal", {"message": "test message"}) == {"Ok": None}
    assert alice.signals == [
        ("app", {"signal_type": "User", "name": "test-signal", "arguments": '{"message":"test message"}'})
    ]


async def test_reply_to_an_unknown_link_type_fails_after_the_post(scenario, one):
    """create_post with in_reply_to links with type "comments", which no entry type defines."""
    alice = await scenario.player("alice", one)
    first = (await alice.call("app", "blog", "create_post", {"content": "first"}))["Ok"]
    result = await alice.call("app", "blog", "create_post", {"content": "reply", "in_reply_to": first})
    assert json.loads(result["Err"]["Internal"])["kind"] == {"ErrorGeneric": "Unknown entry type"}
    # as in holochain-rust, the post and its authored_posts link were committed before the failure
    assert len((await alice.call("app", "blog", "my_posts", {}))["Ok"]["links"]) == 2


async def test_immediate_timeout_on_own_base_is_answered_locally(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "blog", "my_posts_immediate_timeout", {}) == {"Ok": {"links": []}}


# -- offline-validation.js ---------------------------------------------------------------------


async def test_can_retrieve_header_entries_using_get_entry(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call("app", "blog", "create_memo", {"content": "private memo"})
    assert len(created["Ok"]) == 46
    await scenario.consistency()
    hashes = (await alice.call("app", "blog", "get_chain_header_hashes", {}))["Ok"]
    assert len(hashes) == 4  # dna, agent id, public grant, memo
    for header_hash in hashes:
        got = await bob.call("app", "blog", "get_post", {"post_address": header_hash})
        assert got["Ok"]["ChainHeader"]["timestamp"]
    # the last one (first in the list) is the memo's header: bob sees the header, never the memo
    assert (await bob.call("app", "blog", "get_post", {"post_address": hashes[0]}))["Ok"]["ChainHeader"][
        "entry_address"
    ] == created["Ok"]


async def test_validation_of_an_entry_while_its_author_is_offline(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call("app", "blog", "create_post", {"content": "Holo world y'all", "in_reply_to": None})
    assert len(created["Ok"]) == 46
    await scenario.consistency()
    got = await bob.call("app", "blog", "get_post", {"post_address": created["Ok"]})
    assert json.loads(got["Ok"]["App"][1])["content"] == "Holo world y'all"

    await alice.kill()
    # carol joins: bob sends her what he holds; she validates alice's post (a ChainFull package)
    # without alice, whose chain headers she can only find on the DHT
    carol = await scenario.player("carol", one)
    await scenario.consistency()
    await bob.kill()
    got = await carol.call("app", "blog", "get_post", {"post_address": created["Ok"]})
    assert json.loads(got["Ok"]["App"][1])["content"] == "Holo world y'all"
    links = await carol.call("app", "blog", "posts_by_agent", {"agent": ALICE})
    assert [l["address"] for l in links["Ok"]["links"]] == [created["Ok"]]


# -- multi-dna.js --------------------------------------------------------------------------------


async def test_getting_a_post_via_a_bridge(scenario, two):
    conductor = await scenario.player("conductor", two)
    created = await conductor.call_sync("app2", "blog", "create_post", {"content": "Holo world", "in_reply_to": None})
    assert created == {"Ok": HOLO_WORLD_POST}
    assert conductor.info("app1").dna_address != conductor.info("app2").dna_address
    result = await conductor.call("app1", "blog", "get_post_bridged", {"post_address": created["Ok"]})
    assert json.loads(result["Ok"]["App"][1])["content"] == "Holo world"
    # app1's own DHT (another DNA) does not have it
    assert await conductor.call("app1", "blog", "get_post", {"post_address": created["Ok"]}) == {"Ok": None}


async def test_a_bridge_that_does_not_exist(scenario, one):
    alice = await scenario.player("alice", one)
    result = await alice.call("app", "blog", "get_post_bridged", {"post_address": HOLO_WORLD_POST})
    error = json.loads(json.loads(result["Err"]["Internal"])["kind"]["ErrorGeneric"])
    assert error == {"code": -32602, "message": 'instance identifier invalid: PublicInstanceIdentifier("test-bridge")'}


# -- offline.js ---------------------------------------------------------------------------------


async def test_offline_agent_can_post_get_and_recommend(scenario, app_spec_dna, tmp_path):
    """A conductor whose network is holochain-rust's unreachable sim2h relay works alone."""
    from holochain.conductor.conductor import Conductor, load_dna_file
    from holochain.conductor.config_file import parse_config

    config = parse_config(
        {
            "agents": [
                {"id": "app", "name": "alice::app", "public_address": "", "keystore_file": "", "test_agent": True}
            ],
            "dnas": [{"id": "dna", "file": str(app_spec_dna), "hash": load_dna_file(app_spec_dna).address}],
            "instances": [{"id": "app", "dna": "dna", "agent": "app", "storage": {"type": "memory"}}],
            "network": {"type": "sim2h", "sim2h_url": "ws://bogus:666"},
        }
    )
    conductor = Conductor(config, base_dir=tmp_path, save_config=False)
    await conductor.boot()
    try:
        instance = conductor.instances["app"]

        async def call(fn, args):
            out = instance.call("blog", fn, args)
            return json.loads(out if isinstance(out, str) else await out)

        address = (await call("create_post", {"content": "Holo world...1", "in_reply_to": None}))["Ok"]
        assert (await call("get_post", {"post_address": address}))["Ok"]
        assert (await call("recommend_post", {"post_address": address, "agent_address": ALICE}))["Ok"]
        assert len((await call("my_recommended_posts", {}))["Ok"]["links"]) == 1
        assert instance.node.others() == []
    finally:
        await conductor.shutdown()
