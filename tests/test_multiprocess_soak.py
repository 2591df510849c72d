"""Churn on a real relay: `holochain` processes keep posting while others are SIGKILLed and
restarted from their stores; after every round every post so far is gettable everywhere.

One round by default (a few seconds); ``HC_NET_SOAK_ROUNDS=50`` makes it a soak run.
"""

from __future__ import annotations

import os
import random
import signal

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.testing.nats_server import NatsServer
from test_multiprocess_network import call, conductor, content, eventually

ROUNDS = int(os.environ.get("HC_NET_SOAK_ROUNDS", "1"))


async def test_posts_survive_conductors_killed_and_restarted(spawn, tmp_path, app_spec_dna):
    rng = random.Random(ROUNDS)
    with NatsServer.start(tmp_path / "nats") as relay:
        network = {"type": "nats", "servers": [relay.url], "redundancy": 2}
        names = ["alice", "bob", "carol", "dave"]
        procs = {n: conductor(spawn, tmp_path, n, app_spec_dna, network, persist=True) for n in names}
        posts: dict[str, str] = {}
        for round_ in range(ROUNDS):
            for author in rng.sample(names, 2):
                text = f"round {round_} by {author}"
                posts[(await call(procs[author], "create_post", {"content": text, "in_reply_to": None}))["Ok"]] = text
            victim = rng.choice(names)
            procs[victim].stop(signal.SIGKILL)
            procs[victim] = conductor(spawn, tmp_path, victim, app_spec_dna, network, persist=True)
            for proc in procs.values():
                for address, text in posts.items():
                    got = await eventually(
                        proc, "get_post", {"post_address": address}, lambda r: r.get("Ok") is not None, timeout=20
                    )
                    assert content(got) == text
