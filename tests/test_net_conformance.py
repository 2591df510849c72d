"""One conformance suite for every switchboard: the in-process memory one and the NATS relay.

Each test runs twice, on a shared :class:`MemorySwitchboard` (faults injected
by its API) and on a real ``nats-server`` on a random loopback port, each
conductor with its own connection (faults for real: a SIGKILLed peer
process, a SIGKILLed and restarted server).  The first half speaks bytes to
the switchboards; the second runs real conductors (in-process players of a
:class:`~holochain.testing.Scenario`) over them: redundancy after churn,
gossip after a partition heals, a burst of a thousand publishes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp
from holochain.core.entry import Entry
from holochain.core.header import ChainHeader
from holochain.core.time import format_ns, system_clock
from holochain.net import DhtNode, MemorySwitchboard, Network, NetworkError, RequestTimeout, Unreachable, settle
from holochain.net.location import holders_for
from holochain.net.nats import NatsOptions, NatsSwitchboard
from holochain.testing import DnaSpec, PlayerConfig, Scenario
from holochain.testing.nats_server import NatsServer, RouteProxy
from nats_peer import Bare

HEARTBEAT = 0.1  # the relay connection is pinged every 2 s at least (what nats-py allows)
GOSSIP = 0.1  # nodes in these tests gossip ten times a second
SPACE = "QmConformanceSpace"
PEER_SCRIPT = Path(__file__).with_name("nats_peer.py")


async def until(condition, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll real state until ``condition()`` holds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.01)


class Agent:
    """A joined agent: a real key, an inbox that echoes (after ``delay``) and records membership."""

    def __init__(self, name: str, delay: float = 0.0) -> None:
        self.key = AgentKey.for_test_agent(name)
        self.address = self.key.address
        self.delay = delay
        self.events: list[tuple[str, str]] = []
        self.received = 0

    async def on_message(self, sender: str, data: bytes) -> bytes:
        self.received += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return b"echo:" + data

    def on_membership(self, event: str, agent: str) -> None:
        self.events.append((event, agent))


class MemoryFabric:
    kind = "memory"

    def __init__(self, tmp_path: Path) -> None:
        self.board = MemorySwitchboard("conformance")
        self.agents: list[str] = []
        self.networks: list[Network] = []

    async def switchboard(self) -> Any:
        return self.board

    async def join(self, board: Any, agent: Agent) -> None:
        await board.join(SPACE, agent.address, agent)
        self.agents.append(agent.address)

    async def node(self, name: str) -> DhtNode:
        network = Network(self.board, gossip_interval=GOSSIP, request_timeout=2.0)
        self.networks.append(network)
        node = await network.join(SPACE, AgentKey.for_test_agent(name), Bare())
        self.agents.append(node.agent)
        return node

    async def spawn_peer(self, name: str) -> Any:
        node = await self.node(name)
        node.address = node.agent  # type: ignore[attr-defined]
        return node

    async def kill_peer(self, peer: Any) -> None:
        self.board.kill(peer.address)

    async def outage(self) -> None:
        self.board.partition([{a} for a in self.agents])

    async def restore(self) -> None:
        self.board.heal()

    async def close(self) -> None:
        for network in self.networks:
            await network.close()
        await self.board.close()


class NatsFabric:
    kind = "nats"

    def __init__(self, tmp_path: Path) -> None:
        self.server = NatsServer.start(tmp_path / "nats")
        self.boards: list[NatsSwitchboard] = []
        self.networks: list[Network] = []
        self.peers: list[subprocess.Popen[str]] = []

    async def switchboard(self) -> Any:
        board = NatsSwitchboard(NatsOptions([self.server.url], heartbeat=HEARTBEAT), name=f"c{len(self.boards)}")
        self.boards.append(board)
        return board

    async def join(self, board: Any, agent: Agent) -> None:
        await board.join(SPACE, agent.address, agent)
        await until(lambda: board.connected, what="connected")

    async def node(self, name: str) -> DhtNode:
        """A node on a connection of its own (a conductor of its own)."""
        network = Network(await self.switchboard(), gossip_interval=GOSSIP, request_timeout=2.0)
        self.networks.append(network)
        node = await network.join(SPACE, AgentKey.for_test_agent(name), Bare())
        await until(lambda: network.switchboard.connected, what="connected")
        return node

    async def spawn_peer(self, name: str) -> Any:
        """A node in a process of its own (so it can be SIGKILLed)."""
        proc = subprocess.Popen(
            [sys.executable, str(PEER_SCRIPT), self.server.url, SPACE, name, str(GOSSIP)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.peers.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 15)
        assert line.strip() == "READY", line
        proc.address = AgentKey.for_test_agent(name).address  # type: ignore[attr-defined]
        return proc

    async def kill_peer(self, peer: Any) -> None:
        peer.kill()  # SIGKILL: no goodbye; the others find it unreachable when they next ask it
        peer.wait(5)

    async def outage(self) -> None:
        self.server.kill()

    async def restore(self) -> None:
        self.server.run()  # same port

    async def close(self) -> None:
        for network in self.networks:
            await network.close()
        for board in self.boards:
            await board.close()
        for proc in self.peers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        self.server.stop()


@pytest.fixture(params=["memory", "nats"])
async def fabric(request, tmp_path):
    fabric = (MemoryFabric if request.param == "memory" else NatsFabric)(tmp_path)
    try:
        yield fabric
    finally:
        await fabric.close()


async def reachable(board: Any, sender: str, to: str) -> bool:
    try:
        return await board.request(SPACE, sender, to, b"ping", 1) == b"echo:ping"
    except NetworkError:
        return False


async def joined(fabric, *names: str, delay: float = 0.0) -> list[tuple[Any, Agent]]:
    """Agents, each on a switchboard of its own conductor, each reaching the others."""
    out = []
    for name in names:
        board = await fabric.switchboard()
        agent = Agent(name)
        await fabric.join(board, agent)
        out.append((board, agent))
    for board, agent in out:
        for _, other in out:
            if other is not agent:
                await until_async(
                    lambda b=board, a=agent, o=other: reachable(b, a.address, o.address), what="reachability"
                )
    for _, agent in out:
        agent.delay, agent.received = delay, 0
    return out


async def until_async(condition, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.01)


async def nodes(fabric, *names: str) -> list[DhtNode]:
    """DHT nodes, each of its own conductor, all seeing each other (by agent records on a relay)."""
    out = [await fabric.node(name) for name in names]
    everyone = {n.agent for n in out}
    await until(lambda: all(set(n.members()) >= everyone for n in out), what="membership")
    return out


# -- the switchboard: bytes ------------------------------------------------------------------------


async def test_requests_are_delivered_and_answered(fabric):
    (board, alice), (_, bob) = await joined(fabric, "alice", "bob")
    replies = await asyncio.gather(
        *(board.request(SPACE, alice.address, bob.address, b"m%d" % i, 5) for i in range(50))
    )
    assert replies == [b"echo:m%d" % i for i in range(50)]
    with pytest.raises(TypeError):
        await board.request(SPACE, alice.address, bob.address, "text", 1)  # type: ignore[arg-type]


async def test_a_timeout_is_told_apart_from_an_unreachable_agent(fabric):
    (board, alice), (bob_board, bob) = await joined(fabric, "alice", "bob", delay=1.0)
    with pytest.raises(RequestTimeout):
        await board.request(SPACE, alice.address, bob.address, b"slow", 0.2)
    nobody = AgentKey.for_test_agent("nobody").address
    with pytest.raises(Unreachable):
        await board.request(SPACE, alice.address, nobody, b"hi", 1)
    bob_board.leave(SPACE, bob.address)

    async def gone() -> bool:
        try:
            await board.request(SPACE, alice.address, bob.address, b"hi", 1)
        except Unreachable:
            return True
        except RequestTimeout:  # (still answering slowly, until its unsubscription is through)
            return False
        return False

    await until_async(gone, what="bob unreachable once he left")


async def test_a_request_to_anyone_reaches_one_other_member(fabric):
    (board, alice), (_, bob), (_, carol) = await joined(fabric, "alice", "bob", "carol")
    replies = await asyncio.gather(*(board.request(SPACE, alice.address, "*", b"any", 5) for _ in range(40)))
    assert replies == [b"echo:any"] * 40
    assert alice.received == 0 and bob.received + carol.received == 40  # never the sender itself


async def test_members_see_each_other_join_and_leave(fabric):
    alice, bob, carol = await nodes(fabric, "alice", "bob", "carol")
    bob.close()  # a goodbye: its neighbours are told
    await until(lambda: bob.agent not in alice.members() and bob.agent not in carol.members(), what="bob's leave")
    assert sorted(alice.members()) == sorted([alice.agent, carol.agent])


async def test_a_killed_peer_is_seen_to_leave_and_comes_back(fabric):
    (alice,) = await nodes(fabric, "alice")
    peer = await fabric.spawn_peer("dave")
    await until(lambda: peer.address in alice.members(), what="dave's record")
    assert await alice.send_direct(peer.address, "z", "hi", 5) == "echo:hi"
    await fabric.kill_peer(peer)
    await until(lambda: peer.address not in alice.members(), what="dave found gone")
    with pytest.raises(Unreachable):
        await alice.send_direct(peer.address, "z", "hi", 1)
    again = await fabric.spawn_peer("dave")  # the same agent, restarted
    await until(lambda: peer.address in alice.members(), what="dave seen again")
    assert await alice.send_direct(again.address, "z", "back", 5) == "echo:back"


async def test_members_reconnect_after_an_outage(fabric):
    alice, bob = await nodes(fabric, "alice", "bob")
    await fabric.outage()
    with pytest.raises(NetworkError):
        await alice.send_direct(bob.agent, "z", "lost", 1)
    await fabric.restore()
    await until(lambda: bob.agent in alice.members() and alice.agent in bob.members(), what="each seen again")

    async def answered() -> bool:
        try:
            return await alice.send_direct(bob.agent, "z", "again", 1) == "echo:again"
        except NetworkError:
            return False

    await until_async(answered, 15, "a request across the restored relay")


async def test_a_newcomer_learns_a_space_from_one_member_and_its_neighbours(fabric):
    members = await nodes(fabric, *[f"m{i}" for i in range(6)])
    newcomer = await fabric.node("newcomer")
    everyone = {n.agent for n in members} | {newcomer.agent}
    await until(lambda: set(newcomer.members()) == everyone, what="the newcomer's view")
    await until(lambda: all(newcomer.agent in n.members() for n in members), what="everyone's view of it")
    if fabric.kind == "nats":  # a bootstrap from one member (or a few), then gossip with the neighbours
        assert 1 <= newcomer.asked["bootstrap"] <= 3


async def test_a_burst_of_a_thousand_requests_loses_nothing(fabric):
    (board, alice), (_, bob), (_, carol) = await joined(fabric, "alice", "bob", "carol")
    targets = [bob.address, carol.address]
    replies = await asyncio.gather(
        *(board.request(SPACE, alice.address, targets[i % 2], b"%d" % i, 30) for i in range(1000))
    )
    assert replies == [b"echo:%d" % i for i in range(1000)]
    assert bob.received + carol.received == 1000


# -- the DHT over it: real conductors -----------------------------------------------------------------


class Cluster:
    """The network players meet on, with the faults that network has."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.servers: list[NatsServer] = []
        self.proxy: RouteProxy | None = None
        if kind == "nats":  # two servers, the route between them through a proxy that can be cut
            first = NatsServer.start(tmp_path / "nats", "s1", cluster=True)
            self.servers.append(first)
            self.proxy = RouteProxy(first.ports["route"])
            self.servers.append(
                NatsServer.start(
                    tmp_path / "nats", "s2", cluster=True, routes=[self.proxy.port], advertise_route="127.0.0.1:1"
                )
            )

    def scenario(self, tmp_path: Path, **kwargs: Any) -> Scenario:
        network = None
        if self.kind == "nats":
            network = {"type": "nats", "servers": [self.servers[0].url], "heartbeat_interval_ms": int(HEARTBEAT * 1000)}
        return Scenario(tmp_path / "scenario", network=network, consistency_timeout=30, **kwargs)

    def side(self, dna: Path, index: int) -> PlayerConfig:
        """A player config on side ``index`` of a possible partition (over NATS: its server)."""
        config = PlayerConfig({"app": DnaSpec(dna)})
        if self.kind == "nats":
            config.network = {"servers": [self.servers[index].url]}
        return config

    def partition(self, scenario: Scenario, groups: list[list[Any]]) -> None:
        if self.kind == "memory":
            scenario.network.switchboard.partition([{p.info("app").agent_address for p in g} for g in groups])
        else:
            self.proxy.cut()

    def heal(self, scenario: Scenario) -> None:
        if self.kind == "memory":
            scenario.network.switchboard.heal()
        else:
            self.proxy.heal()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        if self.proxy is not None:
            self.proxy.close()


@pytest.fixture(params=["memory", "nats"])
def cluster(request, tmp_path):
    cluster = Cluster(request.param, tmp_path)
    yield cluster
    cluster.close()


def holds(player, address: str) -> bool:
    return player.instance("app").shard.record(address) is not None


async def test_each_entry_stays_held_by_r_agents_after_churn(cluster, tmp_path, app_spec_dna):
    async with cluster.scenario(tmp_path, redundancy=2, gossip_interval=0.2) as scenario:
        names = ["alice", "bob", "carol", "dave"]
        players = await scenario.players({n: cluster.side(app_spec_dna, 0) for n in names})
        posts = []
        for i in range(6):
            posts.append((await players["alice"].call("app", "blog", "create_post", {"content": f"churn {i}"}))["Ok"])
        await scenario.consistency()
        # churn: two members go, a newcomer comes
        await players["bob"].kill()
        await players["carol"].kill()
        erin = await scenario.player("erin", cluster.side(app_spec_dna, 0))
        await scenario.consistency()
        running = [players["alice"], players["dave"], erin]
        members = [p.info("app").agent_address for p in running]
        for address in posts:
            should = set(holders_for(address, members, 2))
            holding = {p.info("app").agent_address for p in running if holds(p, address)}
            assert should <= holding, f"{address}: held by {len(should & holding)} of its {len(should)} holders"
            got = await erin.call("app", "blog", "get_post", {"post_address": address})
            assert got["Ok"] is not None


async def test_gossip_converges_after_a_partition_heals(cluster, tmp_path, app_spec_dna):
    async with cluster.scenario(tmp_path, gossip_interval=0.2) as scenario:
        left = [await scenario.player(n, cluster.side(app_spec_dna, 0)) for n in ("alice", "bob")]
        right = [await scenario.player(n, cluster.side(app_spec_dna, 1)) for n in ("carol", "dave")]
        cluster.partition(scenario, [left, right])
        everyone = left + right
        alice, carol = left[0], right[0]
        await until(
            lambda: len(alice.instance("app").node.members()) == 2 and len(carol.instance("app").node.members()) == 2,
            what="each side alone",
        )
        mine = (await alice.call("app", "blog", "create_post", {"content": "left side"}))["Ok"]
        theirs = (await carol.call("app", "blog", "create_post", {"content": "right side"}))["Ok"]
        await until(lambda: holds(left[1], mine) and holds(right[1], theirs), what="each side holds its own")
        await settle(scenario.networks(), 10)  # (views differ across the cut: settle each side)
        assert not holds(right[1], mine)
        assert holds(right[1], theirs) and not holds(left[1], theirs)
        cluster.heal(scenario)
        await scenario.consistency()  # views agree again, gossip rounds done
        await until(lambda: all(holds(p, mine) and holds(p, theirs) for p in everyone), 10, "convergence")
        links = await right[1].call("app", "blog", "posts_by_agent", {"agent": alice.info("app").agent_address})
        assert [l["address"] for l in links["Ok"]["links"]] == [mine]


MALLORY = AgentKey.for_test_agent("mallory")


def signed_post(i: int) -> DhtOp:
    entry = Entry.app("post", cjson.dumps({"content": f"burst {i}", "date_created": "now"}))
    header = ChainHeader(
        entry.entry_type,
        entry.address,
        [[MALLORY.address, MALLORY.sign(entry.address)]],
        None,
        None,
        None,
        format_ns(system_clock()),
    )
    return DhtOp("Content", entry, header)


async def test_no_loss_under_a_burst_of_a_thousand_publishes(cluster, tmp_path, app_spec_dna):
    async with cluster.scenario(tmp_path, request_timeout=2.0, gossip_interval=0) as scenario:
        players = await scenario.players({n: cluster.side(app_spec_dna, i % 2) for i, n in enumerate(("bob", "carol"))})
        space = players["bob"].instance("app").dna_address
        if cluster.kind == "memory":
            network = scenario.network
            scenario.network.switchboard.loss(0.05, seed=5)  # and some lost, some twice
            scenario.network.switchboard.duplicate(0.05)
        else:
            from holochain.net.network_config import network_for_instance

            network = network_for_instance(
                {
                    "type": "nats",
                    "servers": [cluster.servers[0].url],
                    "heartbeat_interval_ms": 100,
                    "request_timeout_ms": 2000,
                    "gossip_interval_ms": 0,
                },
                "mallory",
            )
        mallory = await network.join(space, MALLORY, Bare())
        await until(lambda: len(mallory.members()) == 3, what="mallory sees the holders")
        ops = [signed_post(i) for i in range(1000)]
        try:
            await asyncio.wait_for(
                mallory.publish([o.to_json() for o in ops], [o.basis for o in ops], [o.hash for o in ops]), 60
            )
        finally:
            mallory.close()
            if cluster.kind == "nats":
                await network.close()
            else:
                scenario.network.switchboard.heal()
        for player in players.values():
            missing = [o for o in ops if not holds(player, o.entry.address)]
            assert not missing, f"{player.name} lacks {len(missing)} of 1000"


async def test_a_node_describes_its_view_for_a_dashboard(fabric):
    alice, bob, carol = await nodes(fabric, "alice", "bob", "carol")
    stats = alice.network.stats()
    (mine,) = [s for s in stats if s["agent"] == alice.agent]
    assert {p["agent"] for p in mine["peers"]} == {bob.agent, carol.agent}
    assert mine["arc"] == [[0, 1 << 32]]  # three agents, R = 5: everyone holds everything
    assert all(p["arc"] == [[0, 1 << 32]] for p in mine["peers"])
    assert mine["held_ops"] == 0 and mine["down"] == [] and mine["redundancy"] == 5
    assert mine["records"] == (0 if fabric.kind == "memory" else 2)  # in process, nobody needs records
    json.dumps(stats)  # plain data
