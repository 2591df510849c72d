"""Chaos on the memory switchboard: messages lost, duplicated and delayed while players post,
are killed and come back (from their SQLite chains), on a sharded DHT (R = 2).  Once the faults
stop, consistency is reached and every post is held by exactly the agents that should hold it
(and its author).  Seeded: a failure names the seed to replay (``HC_NET_CHAOS_SEEDS=0-50`` for
more of them)."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.net.location import holders_for
from holochain.testing import DnaSpec, PlayerConfig, Scenario

_first, _, _last = os.environ.get("HC_NET_CHAOS_SEEDS", "1-2").partition("-")
SEEDS = list(range(int(_first), int(_last or _first) + 1))


@pytest.mark.parametrize("seed", SEEDS)
async def test_the_dht_converges_after_chaos(tmp_path, app_spec_dna, seed):
    rng = random.Random(seed)
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage="sqlite")
    async with Scenario(tmp_path / "s", redundancy=2, request_timeout=0.3, gossip_interval=0.2) as scenario:
        players = await scenario.players({f"p{i}": config for i in range(6)})
        board = scenario.network.switchboard
        board.loss(0.1, seed=seed)
        board.duplicate(0.1)
        board.delay(0.005)
        posts: dict[str, str] = {}
        for step in range(25):
            running = [p for p in players.values() if p.running]
            stopped = [p for p in players.values() if not p.running]
            roll = rng.random()
            if roll < 0.6:
                author = rng.choice(running)
                created = await author.call("app", "blog", "create_post", {"content": f"{seed}/{step}"})
                posts[created["Ok"]] = author.name
            elif roll < 0.8 and len(running) > 3:
                await rng.choice(running).kill()
            elif stopped:
                await rng.choice(stopped).spawn()
            await asyncio.sleep(0.02)
        for player in players.values():
            if not player.running:
                await player.spawn()
        board.heal()
        await scenario.consistency(60)
        members = [p.info("app").agent_address for p in players.values()]
        for address, author in posts.items():
            should = set(holders_for(address, members, 2)) | {players[author].info("app").agent_address}
            holding = {
                p.info("app").agent_address
                for p in players.values()
                if p.instance("app").shard.record(address) is not None
            }
            assert should <= holding, f"seed {seed}: {address} lacks {len(should - holding)} holders"
