"""The network: switchboard delivery and failures, query routing, redundancy, configuration."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from app_spec_support import app_spec_dna, one  # noqa: F401  (fixtures)
from holochain.conductor.conductor import Conductor, ConductorError, load_dna_file
from holochain.conductor.config_file import parse_config
from holochain.net import MemorySwitchboard, Network, NetworkConfigError, RequestTimeout, Unreachable
from holochain.net.location import holders_for, location
from holochain.net.network_config import network_for_instance, shared_memory_network
from holochain.testing import Scenario


class EchoInbox:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def on_message(self, sender: str, data: bytes) -> bytes:
        await asyncio.sleep(0)
        return sender.encode() + b":" + data

    def on_membership(self, event: str, agent: str) -> None:
        self.events.append((event, agent))


async def test_memory_switchboard_delivers_tells_membership_and_fails_explicitly():
    board = MemorySwitchboard("t")
    a, b = EchoInbox(), EchoInbox()
    await board.join("space", "A", a)
    await board.join("space", "B", b)
    assert a.events == [("join", "B")] and b.events == [("join", "A")]
    assert await board.request("space", "A", "B", b"hi", 1) == b"A:hi"
    with pytest.raises(Unreachable):
        await board.request("space", "A", "C", b"hi", 1)
    with pytest.raises(Unreachable):
        await board.request("other-space", "A", "B", b"hi", 1)
    with pytest.raises(TypeError):
        await board.request("space", "A", "B", "not bytes", 1)  # type: ignore[arg-type]
    board.drop("B")
    with pytest.raises(RequestTimeout):
        await board.request("space", "A", "B", b"hi", 0.05)
    board.heal()
    board.partition([{"A"}, {"B"}])
    with pytest.raises(Unreachable):
        await board.request("space", "A", "B", b"hi", 1)
    board.heal()
    board.leave("space", "B")
    assert a.events[-1] == ("leave", "B")
    assert board.members("space") == ["A"]


def test_locations_match_lib3h_and_holders_are_exactly_r():
    # lib3h rrdht_util::calc_location_for_id test vector
    assert location("HcSciDds5OiogymxbnHKEabQ8iavqs8dwdVaGdJW76Vp4gx47tQDfGW4OWc9w5i") == 167996431
    members = [f"agent-{i}" for i in range(10)]
    for basis in ("QmA", "QmB", "QmC"):
        assert len(holders_for(basis, members, 3)) == 3
        assert holders_for(basis, members, 3) == holders_for(basis, members, 0)[:3]
        assert sorted(holders_for(basis, members, 0)) == sorted(members)
        assert sorted(holders_for(basis, members, 20)) == sorted(members)


async def test_network_configuration():
    private_a, private_b = network_for_instance(None, "a"), network_for_instance(None, "b")
    assert private_a is not private_b  # holochain-rust: a network of its own per instance
    shared = network_for_instance({"type": "memory", "name": "cfg-test"}, "a")
    assert network_for_instance({"type": "memory", "name": "cfg-test"}, "b") is shared
    with pytest.raises(NetworkConfigError, match="redundancy"):
        network_for_instance({"type": "memory", "name": "cfg-test", "redundancy": 3}, "c")
    with pytest.raises(NetworkConfigError, match="non-negative"):
        network_for_instance({"type": "memory", "name": "x", "redundancy": -1}, "c")
    with pytest.raises(NetworkConfigError, match="not supported"):
        network_for_instance({"type": "carrier-pigeon"}, "c")


async def test_holochain_rusts_lib3h_configuration_runs_offline(caplog):
    with caplog.at_level(logging.WARNING):
        network = network_for_instance({"type": "lib3h", "bootstrap_nodes": []}, "inst")
    assert isinstance(network, Network) and network.nodes == set()
    assert "instance 'inst'" in caplog.text and "runs offline" in caplog.text


async def test_a_bad_network_table_stops_the_conductor_with_a_clear_error(app_spec_dna, tmp_path):
    config = parse_config(
        {
            "agents": [{"id": "a", "name": "a", "public_address": "", "keystore_file": "", "test_agent": True}],
            "dnas": [{"id": "d", "file": str(app_spec_dna), "hash": load_dna_file(app_spec_dna).address}],
            "instances": [{"id": "i", "dna": "d", "agent": "a", "storage": {"type": "memory"}}],
            "network": {"type": "carrier-pigeon"},
        }
    )
    with pytest.raises(ConductorError, match='instance "i".*carrier-pigeon'):
        await Conductor(config, base_dir=tmp_path, save_config=False).boot()


def _conductor_config(dna, network, *agents):
    return parse_config(
        {
            "agents": [
                {"id": a, "name": f"{a}::app", "public_address": "", "keystore_file": "", "test_agent": True}
                for a in agents
            ],
            "dnas": [{"id": "d", "file": str(dna), "hash": load_dna_file(dna).address}],
            "instances": [{"id": a, "dna": "d", "agent": a, "storage": {"type": "memory"}} for a in agents],
            **({"network": network} if network is not None else {}),
        }
    )


async def _call(instance, fn, args):
    out = instance.call("blog", fn, args)
    return json.loads(out if isinstance(out, str) else await out)


async def test_two_conductors_on_one_named_memory_network_share_a_dht(app_spec_dna, tmp_path):
    network = {"type": "memory", "name": "two-conductors"}
    first = Conductor(_conductor_config(app_spec_dna, network, "alice"), base_dir=tmp_path, save_config=False)
    second = Conductor(_conductor_config(app_spec_dna, network, "bob"), base_dir=tmp_path, save_config=False)
    await first.boot()
    await second.boot()
    try:
        alice, bob = first.instances["alice"], second.instances["bob"]
        address = (await _call(alice, "create_post", {"content": "across conductors"}))["Ok"]
        await shared_memory_network("two-conductors").settled()
        got = await _call(bob, "get_post", {"post_address": address})
        assert json.loads(got["Ok"]["App"][1])["content"] == "across conductors"
    finally:
        await first.shutdown()
        await second.shutdown()


async def test_instances_without_a_network_table_do_not_see_each_other(app_spec_dna, tmp_path):
    conductor = Conductor(_conductor_config(app_spec_dna, None, "alice", "bob"), base_dir=tmp_path, save_config=False)
    await conductor.boot()
    try:
        alice, bob = conductor.instances["alice"], conductor.instances["bob"]
        address = (await _call(alice, "create_post", {"content": "alone"}))["Ok"]
        await alice.network.settled()
        assert await _call(bob, "get_post", {"post_address": address}) == {"Ok": None}
        assert alice.node.others() == [] and bob.node.others() == []
    finally:
        await conductor.shutdown()


async def test_not_found_is_told_apart_from_no_answer(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    from holochain.ribosome import runner
    from holochain.ribosome.host_api import CallHost

    instance = alice.instance("app")

    async def get(address, timeout_ms):
        host = CallHost(instance.host, "blog", None)
        return await runner.run_to_completion(
            lambda: host.get_entry_result(address, {"status_request": "Latest", "timeout": timeout_ms}), host
        )

    assert (await get("QmNowhere", 1000))["result"]["Single"]["meta"] is None  # bob answered: not held
    scenario.network.switchboard.drop(bob.info("app").agent_address)
    with pytest.raises(Exception) as caught:
        await get("QmNowhere", 100)
    kind = json.loads(caught.value.message)["kind"]
    assert kind == {"Timeout": "key: QmNowhere, timeout src: crates/core/src/network/reducers/query.rs:83"}
    scenario.network.switchboard.heal()


async def test_with_redundancy_each_op_is_held_by_r_holders(tmp_path, app_spec_dna):
    from holochain.testing import DnaSpec, PlayerConfig

    config = PlayerConfig({"app": DnaSpec(app_spec_dna)})
    async with Scenario(tmp_path / "s", redundancy=2) as scenario:
        players = await scenario.players(dict.fromkeys(("alice", "bob", "carol", "dave", "erin"), config))
        alice = players["alice"]
        address = (await alice.call_sync("app", "blog", "create_post", {"content": "sharded"}))["Ok"]
        members = [p.info("app").agent_address for p in players.values()]
        expected = set(holders_for(address, members, 2)) | {alice.info("app").agent_address}
        holding = {
            p.info("app").agent_address for p in players.values() if p.instance("app").shard.record(address) is not None
        }
        assert holding == expected
        # everyone can get it: those who do not hold it ask its holders
        for player in players.values():
            got = await player.call("app", "blog", "get_post", {"post_address": address})
            assert json.loads(got["Ok"]["App"][1])["content"] == "sharded"
        links = await players["erin"].call("app", "blog", "posts_by_agent", {"agent": alice.info("app").agent_address})
        assert [l["address"] for l in links["Ok"]["links"]] == [address]


async def test_consistency_names_what_is_outstanding(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    scenario.network.switchboard.drop(players["bob"].info("app").agent_address)
    await players["alice"].call("app", "blog", "create_post", {"content": "stuck"})
    with pytest.raises(TimeoutError, match="did not settle within 0.2s: .*(deliveries|unpublished records)"):
        await scenario.consistency(timeout=0.2)
    scenario.network.switchboard.heal()


async def test_a_silent_holder_delays_nobody_else(scenario, one):
    players = await scenario.players({"alice": one, "bob": one, "carol": one})
    alice, bob, carol = players["alice"], players["bob"], players["carol"]
    scenario.network.switchboard.drop(bob.info("app").agent_address)
    first = (await alice.call("app", "blog", "create_post", {"content": "first"}))["Ok"]
    second = (await alice.call("app", "blog", "create_post", {"content": "second"}))["Ok"]
    shard = carol.instance("app").shard
    silent = {bob.info("app").agent_address}

    def settled() -> bool:  # carol holds both, and her acknowledgements came back: only bob's outbox waits
        held = shard.record(first) is not None and shard.record(second) is not None
        return held and set(alice.instance("app").node.outbox_sizes()) <= silent

    for _ in range(500):  # bounded: at most 5 s
        if settled():
            break
        await asyncio.sleep(0.01)
    assert shard.record(first) is not None and shard.record(second) is not None
    assert set(alice.instance("app").node.outbox_sizes()) <= silent
    assert alice.instance("app").publisher.acked < alice.instance("app").chain.length  # not stored as done
    scenario.network.switchboard.heal()


async def test_a_holder_that_leaves_while_its_answer_is_on_the_way_stops_its_outbox_cleanly(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    node, holder = alice.instance("app").node, bob.info("app").agent_address
    scenario.network.switchboard.delay(0.2)
    await alice.call("app", "blog", "create_post", {"content": "on the way"})
    await asyncio.sleep(0.05)  # the hold request is out; its answer takes 0.2 s
    outbox = node._outboxes[holder]
    worker = outbox.worker
    assert outbox.queue and worker is not None and not worker.done()
    node.on_membership("leave", holder)  # bob leaves (as the switchboard would tell it) mid-request
    assert not outbox.queue and holder not in node._outboxes
    await asyncio.wait_for(worker, 5)  # the answer comes; the worker ends without touching the abandoned queue
    assert worker.exception() is None
    scenario.network.switchboard.delay(0)


async def test_the_same_agent_cannot_join_a_space_twice(app_spec_dna, tmp_path):
    config = parse_config(
        {
            "agents": [{"id": "a", "name": "a::app", "public_address": "", "keystore_file": "", "test_agent": True}],
            "dnas": [{"id": "d", "file": str(app_spec_dna), "hash": load_dna_file(app_spec_dna).address}],
            "instances": [{"id": i, "dna": "d", "agent": "a", "storage": {"type": "memory"}} for i in ("one", "two")],
            "network": {"type": "memory", "name": "twice"},
        }
    )
    conductor = Conductor(config, base_dir=tmp_path, save_config=False)
    with pytest.raises(ConductorError, match='instance "two".*cannot join network .twice.*already in space'):
        await conductor.boot()
    await conductor.shutdown()
