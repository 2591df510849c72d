"""The benchmark command runs end to end (tiny settings) and writes its JSON.

No speed is asserted here: only that every section ran against real servers,
that the conductor answered every call correctly, and that the zome-hammer
left one linear chain with every post in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

SECTIONS = ("throughput", "hammer", "chain", "inprocess", "startup", "memory", "encryption", "instances", "growth")


@pytest.mark.timeout(420)
def test_bench_quick_run_completes_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--secs",
            "0.2",
            "--warm",
            "0.05",
            "--loads",
            "1x1,8x8",
            "--hammer",
            "200",
            "--long-chain",
            "300",
            "--instances",
            "2",
            "--growth-n",
            "300",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in raw
    assert all(raw[section] for section in SECTIONS)

    workloads = {(r["workload"], r["conns"], r["inflight"]) for r in raw["throughput"]}
    for workload in (
        "reference",
        "bare aiohttp",
        "info/instances",
        "create_post (memory store)",
        "create_post",
        "get_post",
    ):
        assert {(workload, 1, 1), (workload, 8, 8)} <= workloads
    for row in raw["throughput"] + raw["chain"]["rows"]:
        assert row["calls"] > 0 and row["bad"] == 0, row

    (hammer,) = raw["hammer"]
    assert hammer["bursts"][0]["ok"] == 200 and hammer["exit_code"] == 0
    assert hammer["chain"]["linear"] and hammer["posts_stored"] == 200

    assert raw["chain"]["built"]["300"]["length"] == 300
    assert {r["inflight"] for r in raw["inprocess"]} == {1, 64}
    assert {r["server"] for r in raw["startup"]} == {"bare", "hc run", "hc run --persist"}
    assert {r["instances"] for r in raw["memory"]} == {1, 3}

    assert {r["kind"] for r in raw["instances"]} == {"each", "total"}
    assert all(r["many"]["calls"] > 0 and r["one"]["calls"] > 0 for r in raw["instances"])
    assert {(r["store"], r["phase"]) for r in raw["growth"]} == {
        (store, phase) for store in ("memory", "sqlite") for phase in ("links", "recommit", "updates", "holding")
    }
    assert all(r["early_us"] > 0 and r["late_us"] > 0 and r["grown"] > 0 for r in raw["growth"])

    measures = [t["measure"] for t in raw["summary"]["targets"]]
    assert len(measures) == 12, measures
    assert "Targets (issues 6 and 16)" in done.stdout
