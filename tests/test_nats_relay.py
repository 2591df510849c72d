"""The NATS relay under real faults: a server of a cluster SIGKILLed mid-publish, forged
agent records, a relay that is not there yet.  Real nats-server processes on loopback."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from conductor_setup import free_port
from holochain.conductor.conductor import Conductor, load_dna_file
from holochain.conductor.config_file import parse_config
from holochain.core.crypto import AgentKey
from holochain.net import Network
from holochain.net.location import holders_for
from holochain.net.nats import NatsOptions, NatsSwitchboard
from holochain.net.peers import AgentInfo
from holochain.net.wire import seal_envelope
from holochain.testing import DnaSpec, PlayerConfig, Scenario
from holochain.testing.nats_server import NatsServer
from test_net_conformance import HEARTBEAT, SPACE, Agent, Bare, until


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


async def test_forged_agent_records_are_ignored(tmp_path):
    import nats

    with NatsServer.start(tmp_path / "nats") as server:
        # (no gossip: mallory is not subscribed, and a round with it would find it gone)
        network = Network(NatsSwitchboard(NatsOptions([server.url]), name="alice"), gossip_interval=0, owned=True)
        alice = await network.join(SPACE, AgentKey.for_test_agent("alice"), Bare())
        await until(lambda: network.switchboard.connected, what="connected")
        raw = await nats.connect(server.url)
        try:
            victim, mallory = AgentKey.for_test_agent("victim"), AgentKey.for_test_agent("mallory")

            async def bootstrap(record: dict) -> None:
                """Mallory asks any member for the space, presenting ``record`` as its own."""
                data = seal_envelope(mallory, SPACE, "*", "bootstrap", {"info": record})
                await raw.request(f"hc.{SPACE}.any", data, timeout=5, headers={"hc-from": mallory.address})

            now = int(time.time() * 1000)
            forged = AgentInfo.sign(mallory.sign, SPACE, victim.address, None, now, 60_000)  # mallory as the victim
            await bootstrap(forged.to_json())
            await bootstrap({"agent": victim.address, "space": SPACE})  # malformed
            stale = AgentInfo.sign(mallory.sign, SPACE, mallory.address, None, now - 120_000, 60_000)
            await bootstrap(stale.to_json())  # expired
            assert mallory.address not in alice.members() and victim.address not in alice.members()
            genuine = AgentInfo.sign(mallory.sign, SPACE, mallory.address, None, now, 60_000)
            await bootstrap(genuine.to_json())  # for comparison
            await until(lambda: mallory.address in alice.members(), what="mallory's genuine record")
            assert victim.address not in alice.members()
        finally:
            await raw.close()
            await network.close()


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
            await asyncio.sleep(0.3)
            assert not bad.connected and good.members(SPACE) == [alice.address]
        finally:
            await good.close()
            await bad.close()


async def test_a_conductor_that_stops_says_goodbye_at_once(tmp_path, app_spec_dna):
    with NatsServer.start(tmp_path / "nats") as server:
        # nobody gossips here (30 s rounds): seeing the leave at once means the goodbye arrived
        network = {"type": "nats", "servers": [server.url]}
        async with Scenario(tmp_path / "s", network=network, gossip_interval=30) as scenario:
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
        ({"type": "nats", "servers": ["nats://x:1"], "agent_info_ttl_ms": 500}, "agent_info_ttl_ms must be an integer"),
        ({"type": "nats", "servers": ["nats://x:1"], "token": 7}, "token must be a non-empty string"),
    ],
)
def test_a_bad_network_table_is_refused_clearly(table, message):
    from holochain.net import NetworkConfigError
    from holochain.net.network_config import network_for_instance

    with pytest.raises(NetworkConfigError, match=message):
        network_for_instance(table, "i")


async def test_a_cluster_of_three_carries_the_dht_through_a_killed_server(tmp_path, app_spec_dna):
    """Conductors spread over three clustered servers (each its own first, the others to fail
    over to); nothing is broadcast, so each server carries only the requests of the agents on
    it.  One server is SIGKILLed: its conductors fail over, every post stays held by its R
    holders and gettable everywhere."""
    servers = NatsServer.cluster(tmp_path / "nats", 3)
    try:
        urls = [s.url for s in servers]
        network = {"type": "nats", "servers": urls}
        async with Scenario(
            tmp_path / "s", network=network, redundancy=2, request_timeout=2.0, gossip_interval=0.3
        ) as scenario:
            players = []
            for i in range(6):
                own = urls[i % 3]
                config = PlayerConfig(
                    {"app": DnaSpec(app_spec_dna)}, network={"servers": [own] + [u for u in urls if u != own]}
                )
                players.append(await scenario.player(f"p{i}", config))
            await until(lambda: all(relay_of(p).server == urls[i % 3] for i, p in enumerate(players)), what="spread")
            posts = [
                (await p.call("app", "blog", "create_post", {"content": f"before {i}"}))["Ok"]
                for i, p in enumerate(players)
            ]
            await scenario.consistency()
            servers[0].kill()  # SIGKILL: p0 and p3 fail over to the others
            await until(
                lambda: all(relay_of(p).connected and relay_of(p).server != urls[0] for p in players), 15, "failover"
            )
            posts += [
                (await p.call("app", "blog", "create_post", {"content": f"after {i}"}))["Ok"]
                for i, p in enumerate(players)
            ]
            await scenario.consistency()
            members = [p.info("app").agent_address for p in players]
            for address in posts:
                should = set(holders_for(address, members, 2))
                holding = {
                    p.info("app").agent_address for p in players if p.instance("app").shard.record(address) is not None
                }
                assert should <= holding, f"{address}: held by {len(should & holding)} of its 2 holders"
                for p in (players[0], players[4]):
                    assert (await p.call("app", "blog", "get_post", {"post_address": address}))["Ok"] is not None
    finally:
        for server in servers:
            server.stop()
