"""The simulator runs the real DHT nodes end to end in virtual time (tiny settings) and writes
its JSON.  No speed is asserted: only that every phase ran and that the DHT did its job in it —
views complete, every op held by its R holders after publishing, after churn, after a partition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_the_simulator_runs_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "sim.json"
    args = ["--agents", "20", "--ops", "10", "--warmup", "10", "--window", "5", "--partition-s", "5"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.simulate", *args, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())["result"]
    assert result["view_completeness"] == 1.0
    assert result["publish_to_held_s"]["never"] == 0
    assert result["churn"]["seconds_until_every_op_at_r"] != float("inf")
    assert result["partition"]["seconds_after_heal_until_every_op_at_r"] != float("inf")
    assert result["idle"]["messages_per_agent_s"] > 0
    assert "Task was destroyed" not in done.stderr
