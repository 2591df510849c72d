"""The NATS relay under real faults: a server of a cluster SIGKILLed mid-publish, forged
presence, a relay that is not there yet.  Real nats-server processes on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from conductor_setup import free_port
from holochain.conductor.conductor import Conductor, load_dna_file
from holochain.conductor.config_file import parse_config
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.net.nats import NatsOptions, NatsSwitchboard
from holochain.testing import DnaSpec, PlayerConfig, Scenario
from holochain.testing.nats_server import NatsServer
from test_net_conformance import HEARTBEAT, SPACE, Agent, until


def relay_of(player) -> NatsSwitchboard:
    (network,) = player.conductor._networks.values()
    return network.switchboard


async def test_a_killed_server_of_a_cluster_loses_no_publish(tmp_path, app_spec_dna):
    servers = NatsServer.cluster(tmp_path / "nats", 2)
    try:
        network = {"type": "nats", "servers": [s.url for s in servers], "heartbeat_interval_ms": 100}
        async with Scenario(tmp_path / "s", network=network, request_timeout=2.0, gossip_interval=0.5) as scenario:
            alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(app_spec_dna)}))
            await until(lambda: relay_of(alice).connected, what="alice connected")
            on = relay_of(alice).server
            doomed = next(s for s in servers if s.url == on)
            other = next(s for s in servers if s is not doomed)
            bob = await scenario.player(
                "bob", PlayerConfig({"app": DnaSpec(app_spec_dna)}, network={"servers": [other.url]})
            )
            calls = []
            for i in range(20):
                calls.append(
                    asyncio.ensure_future(
                        alice.call("app", "blog", "create_post", {"content": f"through the crash {i}"})
                    )
                )
                if i == 10:
                    doomed.kill()  # SIGKILL, mid-burst: alice's connection fails over to the other server
                await asyncio.sleep(0.01)
            posts = [(await c)["Ok"] for c in calls]
            await until(lambda: relay_of(alice).connected, what="alice reconnected")
            assert relay_of(alice).server == other.url
            await scenario.consistency()
            bob_shard = bob.instance("app").shard
            await until(lambda: all(bob_shard.record(p) is not None for p in posts), 15, "every post at bob")
    finally:
        for server in servers:
            server.stop()


async def test_forged_presence_is_ignored(tmp_path):
    import nats

    with NatsServer.start(tmp_path / "nats") as server:
        board = NatsSwitchboard(NatsOptions([server.url], heartbeat=HEARTBEAT), name="alice")
        alice = Agent("alice")
        await board.join(SPACE, alice.address, alice)
        await until(lambda: board.connected, what="connected")
        raw = await nats.connect(server.url)
        try:
            victim, mallory = AgentKey.for_test_agent("victim"), AgentKey.for_test_agent("mallory")

            async def announce(agent: AgentKey, signer: AgentKey, seq: int) -> None:
                text = cjson.dumps({"space": SPACE, "agent": agent.address, "event": "hello", "inc": "x", "seq": seq})
                message = {"agent": agent.address, "event": "hello", "inc": "x", "seq": seq, "sig": signer.sign(text)}
                await raw.publish(f"hc.{SPACE}.presence", json.dumps(message).encode())
                await raw.flush()

            await announce(victim, mallory, 1)  # mallory claims to be the victim
            await raw.publish(f"hc.{SPACE}.presence", b"not json")
            await announce(mallory, mallory, 1)  # a genuine announcement, for comparison
            await until(lambda: mallory.address in board.members(SPACE), what="mallory's genuine hello")
            assert victim.address not in board.members(SPACE)
        finally:
            await raw.close()
            await board.close()


async def test_a_conductor_reports_offline_until_its_relay_answers(tmp_path, app_spec_dna):
    port = free_port()
    config = parse_config(
        {
            "agents": [{"id": "a", "name": "a", "public_address": "", "keystore_file": "", "test_agent": True}],
            "dnas": [{"id": "d", "file": str(app_spec_dna), "hash": load_dna_file(app_spec_dna).address}],
            "instances": [{"id": "i", "dna": "d", "agent": "a", "storage": {"type": "memory"}}],
            "network": {"type": "nats", "servers": [f"nats://127.0.0.1:{port}"]},
        }
    )
    conductor = Conductor(config, base_dir=tmp_path, save_config=False)
    await conductor.boot()  # starts, though nothing answers there
    try:
        assert conductor.instance_stats()["i"]["offline"] is True
        result = conductor.call_zome("i", "blog", "create_post", {"content": "local"})
        assert json.loads(result if isinstance(result, str) else await result)["Ok"]
        with NatsServer.start(tmp_path / "nats", port=port):
            await until(lambda: conductor.instance_stats()["i"]["offline"] is False, 10, "connection")
    finally:
        await conductor.shutdown()


async def test_a_relay_that_wants_a_token_admits_only_who_has_it(tmp_path):
    with NatsServer.start(tmp_path / "nats", extra_config='authorization { token: "s3cret" }') as server:
        good = NatsSwitchboard(NatsOptions([server.url], heartbeat=HEARTBEAT, token="s3cret"), name="good")
        bad = NatsSwitchboard(NatsOptions([server.url], heartbeat=HEARTBEAT, token="guess"), name="bad")
        alice, bob = Agent("alice"), Agent("bob")
        try:
            await good.join(SPACE, alice.address, alice)
            await bad.join(SPACE, bob.address, bob)
            await until(lambda: good.connected, what="the right token admitted")
            await asyncio.sleep(0.3)  # (three heartbeats: bob would have been seen by now)
            assert not bad.connected and good.members(SPACE) == [alice.address]
        finally:
            await good.close()
            await bad.close()


async def test_a_conductor_that_stops_says_goodbye_at_once(tmp_path, app_spec_dna):
    with NatsServer.start(tmp_path / "nats") as server:
        # presence expires only after 3.5 s here: seeing the leave sooner means the goodbye arrived
        network = {"type": "nats", "servers": [server.url], "heartbeat_interval_ms": 1000}
        async with Scenario(tmp_path / "s", network=network) as scenario:
            config = PlayerConfig({"app": DnaSpec(app_spec_dna)})
            alice, bob = (await scenario.players({"alice": config, "bob": config})).values()
            node = alice.instance("app").node
            bob_address = bob.info("app").agent_address
            assert bob_address in node.members()
            await bob.kill()
            await until(lambda: bob_address not in node.members(), 1.5, "bob's goodbye")


@pytest.mark.parametrize(
    "table, message",
    [
        ({"type": "sim2h"}, "needs sim2h_url"),
        ({"type": "nats"}, "servers must list"),
        ({"type": "nats", "servers": []}, "servers must list"),
        ({"type": "nats", "servers": ["http://127.0.0.1:4222"]}, "must start with nats://"),
        ({"type": "nats", "servers": ["nats://x:1"], "redundancy": -1}, "redundancy must be a non-negative"),
        ({"type": "nats", "servers": ["nats://x:1"], "gossip_interval_ms": "1s"}, "gossip_interval_ms must be"),
        (
            {"type": "nats", "servers": ["nats://x:1"], "heartbeat_interval_ms": 1000, "presence_ttl_ms": 500},
            "presence_ttl_ms must be longer",
        ),
        ({"type": "nats", "servers": ["nats://x:1"], "token": 7}, "token must be a non-empty string"),
    ],
)
def test_a_bad_network_table_is_refused_clearly(table, message):
    from holochain.net import NetworkConfigError
    from holochain.net.config import network_for_instance

    with pytest.raises(NetworkConfigError, match=message):
        network_for_instance(table, "i")
