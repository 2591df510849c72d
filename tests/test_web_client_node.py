"""hc-web-client 0.5.3 (unmodified, from npm, in Node) against `holochain -c`:
connect, call, callZome, admin calls, onSignal receiving a signal a zome emits, close."""

from __future__ import annotations

import json

from conductor_setup import agent, dna, instance, interface, signal_dna, start_holochain, write_config
from conftest import JS_DIR, node


def test_hc_web_client_drives_the_conductor(tmp_path, spawn):
    talk = signal_dna(tmp_path)
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("alice"),
        dna("talk", talk),
        instance("app", "talk", "alice", tmp_path / "data" / "app"),
        interface("admin", ["app"], admin=True),
    )
    conductor = start_holochain(spawn, config, tmp_path)
    done = node(
        str(JS_DIR / "web_client.js"),
        env={"HC_URL": f"ws://localhost:{conductor.ports['admin']}", "HC_INSTANCE": "app"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    steps = {s["step"]: s["value"] for s in map(json.loads, done.stdout.splitlines())}
    assert steps["info/instances"] == [{"id": "app", "dna": "talk", "agent": "alice"}]
    assert [a["id"] for a in steps["agent/list"]] == ["alice"]
    assert steps["agent/list"][0]["public_address"].startswith("HcS")
    assert steps["echo"] == '{"Ok":"from node"}'  # a JSON string, as hc-web-client hands it on
    assert steps["error"] == {
        "code": -32602,
        "message": "Holochain Instance Error: Zome function 'nope' not found in Zome 'talk'",
    }
    assert steps["shout"] == '{"Ok":"hello signal"}'
    assert steps["signal"] == {
        "type": "InstanceSignal",
        "instance_id": "app",
        "signal": {"signal_type": "User", "name": "shouted", "arguments": '{"message":"hello signal"}'},
    }
    assert list(steps["stats"]["instance_stats"]) == ["app"]
    assert steps["closed"] == 1000
