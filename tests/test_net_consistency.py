"""Consistency signals: what tryorama's waiter counts, announced at commit, satisfied by holders.

hachiko's rule, checked here on the signals players really emit: an event
pending for ``Validators`` is satisfied once every node of the network has
emitted it; one pending for ``Source`` once the node that announced it has.
"""

from __future__ import annotations

import json

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.conductor.conductor import Conductor, load_dna_file
from holochain.conductor.config_file import parse_config
from holochain.testing import DnaSpec, PlayerConfig, Scenario


def unsatisfied(players) -> list[tuple[str, str]]:
    seen = {p.name: {s["event"] for _, s in p.signals if s["signal_type"] == "Consistency"} for p in players}
    missing = []
    for player in players:
        for _, signal in player.signals:
            if signal["signal_type"] != "Consistency":
                continue
            for item in signal["pending"]:
                who = [player.name] if item["group"] == "Source" else list(seen)
                missing += [(name, item["event"]) for name in who if item["event"] not in seen[name]]
    return missing


def events(player, kind: str) -> list:
    out = []
    for _, signal in player.signals:
        if signal["signal_type"] == "Consistency":
            event = json.loads(signal["event"])
            if isinstance(event, dict) and kind in event:
                out.append((event[kind], [json.loads(p["event"]) for p in signal["pending"]]))
    return out


async def test_every_pending_event_is_emitted_by_every_holder(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, consistency_signals=True)
    async with Scenario(tmp_path / "s") as scenario:
        players = await scenario.players({"alice": config, "bob": config, "carol": config})
        alice = players["alice"]
        address = (await alice.call("app", "blog", "create_post", {"content": "counted"}))["Ok"]
        await scenario.consistency()
        updated = (
            await alice.call("app", "blog", "update_post", {"post_address": address, "new_content": "counted twice"})
        )["Ok"]
        await alice.call("app", "blog", "delete_post", {"content": "counted"})
        await alice.call("app", "blog", "delete_entry_post", {"post_address": updated})
        await scenario.consistency()
        running = list(players.values())
        assert unsatisfied(running) == []
        published = dict(events(alice, "Publish"))
        assert published[address] == [{"Hold": address}]
        kinds = {next(iter(p)) for pending in published.values() for p in pending}
        assert {"Hold", "AddLink", "RemoveLink", "UpdateEntry", "RemoveEntry"} <= kinds
        for player in running:  # each holder says it holds what alice published
            assert address in [e for e, _ in events(player, "Hold")]


async def test_a_newcomer_satisfies_what_is_still_pending(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, consistency_signals=True)
    async with Scenario(tmp_path / "s") as scenario:
        alice = await scenario.player("alice", config)
        await alice.call("app", "blog", "create_post", {"content": "before bob"})
        bob = await scenario.player("bob", config)
        await scenario.consistency()
        assert unsatisfied([alice, bob]) == []  # bob held (and said so) what alice had published


async def test_an_instance_alone_on_its_own_network_announces_no_publish(tmp_path, app_spec_dna):
    config = parse_config(
        {
            "agents": [{"id": "a", "name": "a", "public_address": "", "keystore_file": "", "test_agent": True}],
            "dnas": [{"id": "d", "file": str(app_spec_dna), "hash": load_dna_file(app_spec_dna).address}],
            "instances": [{"id": "i", "dna": "d", "agent": "a", "storage": {"type": "memory"}}],
            "signals": {"consistency": True, "trace": False},
        }
    )
    conductor = Conductor(config, base_dir=tmp_path, save_config=False)
    signals = []
    conductor.add_signal_listener(lambda iid, kind, frame: signals.append(json.loads(frame)["signal"]))
    await conductor.boot()
    try:
        result = conductor.call_zome("i", "blog", "create_post", {"content": "alone"})
        json.loads(result if isinstance(result, str) else await result)
        kinds = {next(iter(json.loads(s["event"]))) for s in signals if s["signal_type"] == "Consistency"}
        # nobody else would ever emit its Hold: a waiter would wait in vain
        assert kinds == {"SignalZomeFunctionCall", "ReturnZomeFunctionResult"}
    finally:
        await conductor.shutdown()
