"""tryorama 0.3.1 (unmodified, from npm) spawning our `holochain` with the TOML it writes:
two conductors, three instances each (one with a uuid), a bridge, concurrent calls,
a strict consistency waiter, kill and respawn."""

from __future__ import annotations

import json
import os

from conductor_setup import blog_copy, signal_dna
from conftest import BIN, HOLOCHAIN, JS_DIR, node


def test_tryorama_runs_our_scenarios(tmp_path):
    blog = blog_copy(tmp_path)
    talk = signal_dna(tmp_path, bridges=[{"presence": "optional", "handle": "helper", "reference": {"traits": {}}}])
    storage = tmp_path / "tryorama"
    storage.mkdir()
    done = node(
        str(JS_DIR / "tryorama_scenario.js"),
        timeout=120,
        env={
            "TRYORAMA_HOLOCHAIN_PATH": HOLOCHAIN,
            "TRYORAMA_STORAGE": str(storage),
            "TRYORAMA_CHOOSE_FREE_PORT": "1",
            "TRYORAMA_STRICT_CONDUCTOR_TIMEOUT": "1",
            "BLOG_DNA": str(blog),
            "TALK_DNA": str(talk),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # tryorama asks `hc hash` for DNA hashes
        },
    )
    output = done.stdout + done.stderr
    report = json.loads(next(l for l in done.stdout.splitlines() if l.startswith("REPORT "))[7:])
    assert report == {"successes": 2, "errors": []}, output
    assert "# fail" not in done.stdout, output
    assert done.stdout.count("\nok ") >= 14, output
    assert done.returncode == 0, output


def test_tryorama_drives_a_wasm_dna(tmp_path):
    from holochain.testing.nats_server import NatsServer
    from wat_zomes import proxy_zome, wasm_dna

    wat = tmp_path / "wat.dna.json"
    wat.write_text(json.dumps(wasm_dna(proxy_zome())), encoding="utf-8")
    storage = tmp_path / "tryorama"
    storage.mkdir()
    with NatsServer.start(tmp_path / "nats", websocket=True) as relay:
        done = node(
            str(JS_DIR / "tryorama_wasm.js"),
            timeout=120,
            env={
                "TRYORAMA_HOLOCHAIN_PATH": HOLOCHAIN,
                "TRYORAMA_STORAGE": str(storage),
                "TRYORAMA_CHOOSE_FREE_PORT": "1",
                "TRYORAMA_STRICT_CONDUCTOR_TIMEOUT": "1",
                "WAT_DNA": str(wat),
                "SIM2H_URL": relay.ws_url,
                "HC_WASM_CACHE": str(tmp_path / "wasm-cache"),
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            },
        )
    output = done.stdout + done.stderr
    report = json.loads(next(l for l in done.stdout.splitlines() if l.startswith("REPORT "))[7:])
    assert report == {"successes": 1, "errors": []}, output
    assert "# fail" not in done.stdout, output
    assert done.stdout.count("\nok ") >= 6, output
