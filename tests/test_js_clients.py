"""Unmodified npm clients against `hc run`: the guide's rpc-websockets example."""

from __future__ import annotations

import json

from conftest import JS_DIR, node


def test_guide_example_with_rpc_websockets(hc_run):
    conductor = hc_run()
    done = node(str(JS_DIR / "guide.js"), env={"HC_URL": f"ws://localhost:{conductor.port}"})
    assert done.returncode == 0, done.stderr + done.stdout
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    assert steps[0] == {
        "step": "info/instances",
        "result": [{"id": "test-instance", "dna": "hc-run-dna", "agent": "hc-run-agent"}],
    }
    assert steps[1]["step"] == "create_post"
    created = json.loads(steps[1]["result"])  # the result is a JSON *string*
    assert list(created) == ["Ok"] and created["Ok"].startswith("Qm") and len(created["Ok"]) == 46
    assert json.loads(steps[2]["result"]) == {
        "Ok": {"App": ["post", '{"content":"sample content","date_created":"now"}']}
    }
    assert steps[3] == {"step": "closed", "code": 1000}
