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
