"""tryorama 0.3.1 (unmodified, from npm) driving three `holochain` processes networked
through a real nats-server, with app_spec's own kind of network table (`type = "sim2h"`,
the relay's WebSocket URL), and a strict consistency waiter."""

from __future__ import annotations

import json
import os

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from conftest import BIN, HOLOCHAIN, JS_DIR, node
from holochain.testing.nats_server import NatsServer


def test_tryorama_waits_for_consistency_across_processes(tmp_path, app_spec_dna):
    storage = tmp_path / "tryorama"
    storage.mkdir()
    with NatsServer.start(tmp_path / "nats", websocket=True) as relay:
        done = node(
            str(JS_DIR / "tryorama_network.js"),
            timeout=120,
            env={
                "TRYORAMA_HOLOCHAIN_PATH": HOLOCHAIN,
                "TRYORAMA_STORAGE": str(storage),
                "TRYORAMA_CHOOSE_FREE_PORT": "1",
                "TRYORAMA_STRICT_CONDUCTOR_TIMEOUT": "1",
                "APP_SPEC_DNA": str(app_spec_dna),
                "SIM2H_URL": relay.ws_url,
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            },
        )
    output = done.stdout + done.stderr
    report = json.loads(next(l for l in done.stdout.splitlines() if l.startswith("REPORT "))[7:])
    assert report == {"successes": 2, "errors": []}, output
    assert "# fail" not in done.stdout, output
    assert done.returncode == 0, output
