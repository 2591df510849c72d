"""Anti-entropy gossip: digests that agree exactly when the ops do, rounds that repair what
publishing gave up on (fetching from the author first, else from whoever listed it), and
newcomers that catch up over as many rounds as it takes."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.net import rounds
from holochain.net.gossip import SLICES, GossipIndex, Scope, slice_bounds
from holochain.net.location import FULL_RING, RING
from holochain.testing import DnaSpec, PlayerConfig, Scenario
from test_net_conformance import until

EVERYTHING = Scope(FULL_RING, "a", FULL_RING, "b", FULL_RING)


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(0, 10_000), max_size=60),
    st.sets(st.integers(0, 10_000), max_size=60),
    st.integers(0, RING - 2),
    st.integers(1, SLICES),
)
def test_digests_agree_exactly_when_the_ops_do(mine, theirs, lo, slices):
    def index(ids):
        out = GossipIndex()
        for i in ids:
            out.add(f"Qm{i}", random.Random(i).randrange(RING), "a")
        return out

    a, b = index(mine), index(theirs)
    assert (a.digest(EVERYTHING, 0, RING) == b.digest(EVERYTHING, 0, RING)) == (mine == theirs)
    hi = random.Random(lo).randrange(lo + 1, RING + 1)
    cells = a.digest(Scope([(lo, hi)], "a", [], "b", []), lo, hi, slices)
    for i, (count, _) in enumerate(cells):  # each slice counts exactly what lies between its bounds
        s_lo, s_hi = slice_bounds(lo, hi, slices, i)
        assert count == len(a.listing(EVERYTHING, [(s_lo, s_hi)], 10**6)) if s_lo < s_hi else count == 0


async def test_a_newcomer_catches_up_over_several_rounds(tmp_path, app_spec_dna, monkeypatch):
    monkeypatch.setattr(rounds, "LIST_LIMIT", 40)  # a round lists at most 40 ops: it takes several
    monkeypatch.setattr(rounds, "_LEAF_ITEMS", 8)
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)})
    async with Scenario(tmp_path / "s", gossip_interval=0) as scenario:
        alice, bob = (await scenario.players({"alice": config, "bob": config})).values()
        posts = [(await alice.call("app", "blog", "create_post", {"content": f"old {i}"}))["Ok"] for i in range(15)]
        await scenario.consistency()
        await alice.kill()  # what carol gets now comes from bob, by gossip alone
        carol = await scenario.player("carol", config)  # waits for consistency: the catch-up rounds
        shard = carol.instance("app").shard
        assert all(shard.record(p) is not None for p in posts)
        assert bob.instance("app").node.gossip_rounds + carol.instance("app").node.gossip_rounds >= 3


async def test_gossip_repairs_what_publishing_missed_fetching_from_the_author(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)})
    async with Scenario(tmp_path / "s", request_timeout=0.1, gossip_interval=0.1) as scenario:
        alice, bob, carol = (await scenario.players(dict.fromkeys(("alice", "bob", "carol"), config))).values()
        before = {p.name: p.instance("app").node.served["gossip_fetch"] for p in (alice, bob)}
        board = scenario.network.switchboard
        board.drop(carol.info("app").agent_address)  # nothing reaches carol: publishing to her fails
        post = (await alice.call("app", "blog", "create_post", {"content": "missed by carol"}))["Ok"]
        # her own gossip rounds find it listed (by alice, by bob) and fetch it from its author
        await until(lambda: carol.instance("app").shard.record(post) is not None, 10, "carol repaired")
        served = {p.name: p.instance("app").node.served["gossip_fetch"] - before[p.name] for p in (alice, bob)}
        assert served["alice"] >= 1 and served["bob"] == 0
        assert alice.instance("app").node.outbox_sizes().get(carol.info("app").agent_address)
        board.heal()


async def test_without_the_author_whoever_listed_it_serves(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)})
    async with Scenario(tmp_path / "s", gossip_interval=0.1) as scenario:
        alice, bob, carol = (await scenario.players(dict.fromkeys(("alice", "bob", "carol"), config))).values()
        board = scenario.network.switchboard
        board.partition(
            [{alice.info("app").agent_address, bob.info("app").agent_address}, {carol.info("app").agent_address}]
        )
        post = (await alice.call("app", "blog", "create_post", {"content": "alice will be gone"}))["Ok"]
        await until(lambda: bob.instance("app").shard.record(post) is not None, 5, "bob holds it")
        await alice.kill()
        board.heal()  # carol and bob see each other again: their round brings it to carol (alice is gone)
        await until(lambda: carol.instance("app").shard.record(post) is not None, 10, "carol repaired by bob")
