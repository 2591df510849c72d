"""``python -m bench.wasm_start``: a conductor's warm start with WASM DNAs ÷ with Python DNAs only.

Starts ``holochain -c`` until its ``*** Done`` line, ``--runs`` times each, for
a config running the app_spec DNA as Python zomes and one running its Rust
twin as WebAssembly (``wasm/build/app_spec.dna.json``, from ``make wasm``).
The compiled-module cache is warmed by one start first, so "warm" means a
second start: the 300 KB twin is loaded from its cached artifact instead of
being compiled.  Prints the medians and the ratio (the issue's target: ≤ 2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from holochain.core.dna import Dna

REPO = Path(__file__).resolve().parent.parent
HOLOCHAIN = str(REPO / ".venv" / "bin" / "holochain")
HC = str(REPO / ".venv" / "bin" / "hc")
DONE = "*** Done. All interfaces started."


def _config(root: Path, dna: Path, instances: int) -> Path:
    address = Dna.from_text(dna.read_bytes()).address
    lines = [
        f'persistence_dir = "{root / "data"}"',
        "",
        '[[agents]]\nid = "a"\nname = "a"\npublic_address = ""\nkeystore_file = ""\ntest_agent = true\n',
        f'[[dnas]]\nid = "d"\nfile = "{dna}"\nhash = "{address}"\n',
    ]
    for i in range(instances):
        lines.append(f'[[instances]]\nid = "i{i}"\ndna = "d"\nagent = "a"\n[instances.storage]\ntype = "memory"\n')
    path = root / "conductor.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _start(config: Path, env: dict[str, str], timeout: float = 60.0) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [HOLOCHAIN, "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        deadline = started + timeout
        for line in proc.stdout:
            if DONE in line:
                return time.perf_counter() - started
            if time.perf_counter() > deadline:
                break
        raise RuntimeError(f"holochain -c {config} did not start")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(runs: int, instances: int) -> dict[str, float]:
    wasm_dna = REPO / "wasm" / "build" / "app_spec.dna.json"
    if not wasm_dna.is_file():
        subprocess.run(["make", "wasm"], cwd=REPO, check=True, timeout=900)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = root / "app_spec"
        shutil.copytree(REPO / "examples" / "app_spec", project, ignore=shutil.ignore_patterns("dist", ".hc"))
        subprocess.run([HC, "package"], cwd=project, check=True, capture_output=True, timeout=120)
        py_dna = next((project / "dist").glob("*.dna.json"))
        env = dict(os.environ, HC_WASM_CACHE=str(root / "cache"))
        figures = {}
        for name, dna in (("python", py_dna), ("wasm", wasm_dna)):
            where = root / name
            where.mkdir()
            config = _config(where, dna, instances)
            _start(config, env)  # warms the compiled-module cache (and the OS's file cache)
            figures[name] = statistics.median(_start(config, env) for _ in range(runs))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="starts timed per config (default 5)")
    parser.add_argument("--instances", type=int, default=2, help="instances of the DNA per conductor (default 2)")
    args = parser.parse_args()
    figures = main(args.runs, args.instances)
    print(f"warm start, Python DNA only: {figures['python'] * 1000:.0f} ms (median)")
    print(f"warm start, WASM DNA:        {figures['wasm'] * 1000:.0f} ms (median)")
    print(f"WASM ÷ Python: {figures['wasm'] / figures['python']:.2f} (target ≤ 2)")
