"""``python -m bench.scale``: what a networked DHT costs per agent, idle and busy, at two sizes.

    python -m bench.scale                        # 30 agents (10 processes x 3), then 300 (10 x 30)
    python -m bench.scale --sizes 30 --processes 5 --out scale.json

For each size: a fresh ``nats-server`` (monitoring on a loopback port) and
``--processes`` ``holochain`` processes, each with ``size / processes``
app_spec instances (agents) on one relay connection, R = 3.  Measured, each
step bounded in time, every process stopped by pid:

* **idle**: once every agent has joined, relay deliveries per agent per
  second (``out_msgs`` of the server's ``/varz``) and the conductors' CPU
  (``/proc``) over a quiet window;
* **post → gettable**: a post at one agent, ``get_post`` polled at sampled
  agents of *other* processes until it answers (p50 / p99 over every post
  and sample);
* **relay outage**: the server SIGKILLed for ``--outage`` seconds and
  started again on the same port; deliveries in the first 10 s after it is
  back (per agent), and how long until a post made after it is gettable at
  the sampled agents.

The figures that matter are ratios between the two sizes in the same run
(per-agent idle deliveries should not grow with the number of agents).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HOLOCHAIN = str(Path(sys.executable).parent / "holochain")
_DONE = "*** Done. All interfaces started."
_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """One ``holochain -c`` process with ``count`` agents, and an admin client to it."""

    def __init__(self, root: Path, index: int, count: int, dna_path: Path, dna_hash: str, network: dict[str, Any]):
        self.name = f"p{index}"
        self.port = _free_port()
        self.instances = [f"{self.name}-a{i}" for i in range(count)]
        root.mkdir(parents=True, exist_ok=True)
        net = "\n".join(f"{k} = {json.dumps(v)}" for k, v in network.items())
        parts = [f"persistence_dir = {json.dumps(str(root))}"]
        for iid in self.instances:
            parts.append(
                f'[[agents]]\nid = "{iid}"\nname = "{iid}"\npublic_address = "[SHOULD BE REWRITTEN]"\n'
                f'keystore_file = "[UNUSED]"\ntest_agent = true'
            )
        parts.append(f'[[dnas]]\nid = "app-spec"\nfile = {json.dumps(str(dna_path))}\nhash = "{dna_hash}"')
        for iid in self.instances:
            parts.append(
                f'[[instances]]\nid = "{iid}"\ndna = "app-spec"\nagent = "{iid}"\n[instances.storage]\ntype = "memory"'
            )
        parts.append(
            f'[[interfaces]]\nid = "admin"\nadmin = true\n[interfaces.driver]\ntype = "websocket"\nport = {self.port}'
        )
        for iid in self.instances:
            parts.append(f'[[interfaces.instances]]\nid = "{iid}"')
        parts.append(f"[network]\n{net}")
        (root / "conductor-config.toml").write_text("\n".join(parts) + "\n", encoding="utf-8")
        self.proc = subprocess.Popen(
            [HOLOCHAIN, "-c", str(root / "conductor-config.toml")],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.client: Any = None

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"conductor {self.name} exited with {self.proc.wait()}")
            if _DONE in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return
        raise TimeoutError(f"conductor {self.name} did not start within {timeout:g}s")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    async def connect(self) -> None:
        from holochain.client import Client

        self.client = await Client.connect(f"ws://127.0.0.1:{self.port}", timeout=60)

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime

    async def call(self, instance: str, function: str, args: dict[str, Any]) -> Any:
        return await self.client.call_zome(instance, "blog", function, args)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _varz(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/varz", timeout=5) as reply:
        return json.loads(reply.read())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def _gettable(proc: Process, instance: str, address: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        result = await proc.call(instance, "get_post", {"post_address": address})
        if result.get("Ok"):
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} not gettable at {instance} within {timeout:g}s")
        await asyncio.sleep(0.02)


async def _post_latencies(procs: list[Process], posts: int, samples: int, rng: random.Random) -> list[float]:
    out: list[float] = []
    for i in range(posts):
        author = procs[i % len(procs)]
        others = [(p, iid) for p in procs if p is not author for iid in p.instances]
        chosen = rng.sample(others, min(samples, len(others)))
        created = await author.call(
            rng.choice(author.instances), "create_post", {"content": f"scale {i} {time.time()}"}
        )
        start = time.monotonic()
        address = created["Ok"]
        done = await asyncio.gather(*(_gettable(p, iid, address, 30) for p, iid in chosen))
        out += [t - start for t in done]
    return out


async def measure_size(
    args: argparse.Namespace, root: Path, size: int, dna_path: Path, dna_hash: str
) -> dict[str, Any]:
    from holochain.testing.nats_server import NatsServer

    monitor = _free_port()
    server = NatsServer.start(root / "nats", extra_config=f"http: 127.0.0.1:{monitor}")
    network = {
        "type": "nats",
        "servers": [server.url],
        "redundancy": args.redundancy,
        "gossip_interval_ms": args.gossip_ms,
        "request_timeout_ms": 5000,
    }
    count = max(2, min(args.processes, size))
    per = max(1, size // count)
    procs = [Process(root / f"p{i}", i, per, dna_path, dna_hash, network) for i in range(count)]
    rng = random.Random(size)
    result: dict[str, Any] = {"agents": per * count, "processes": count}
    try:
        started = time.monotonic()
        for proc in procs:  # one at a time: each boots its instances (a 2-core machine)
            proc.wait_ready()
        result["boot_s"] = time.monotonic() - started
        await asyncio.gather(*(p.connect() for p in procs))
        await asyncio.sleep(args.warmup)  # joins and the first gossip rounds
        v0, c0, t0 = _varz(monitor), sum(p.cpu_seconds() for p in procs), time.monotonic()
        await asyncio.sleep(args.window)
        v1, c1, t1 = _varz(monitor), sum(p.cpu_seconds() for p in procs), time.monotonic()
        span = t1 - t0
        agents = result["agents"]
        result["idle"] = {
            "deliveries_per_agent_s": (v1["out_msgs"] - v0["out_msgs"]) / span / agents,
            "relay_in_per_agent_s": (v1["in_msgs"] - v0["in_msgs"]) / span / agents,
            "bytes_per_agent_s": (v1["out_bytes"] - v0["out_bytes"]) / span / agents,
            "cpu_share_of_one_core": (c1 - c0) / span,
            "window_s": span,
        }
        latencies = await _post_latencies(procs, args.posts, args.samples, rng)
        result["post_to_gettable_ms"] = {
            "p50": statistics.median(latencies) * 1000,
            "p99": _percentile(latencies, 0.99) * 1000,
            "max": max(latencies) * 1000,
            "samples": len(latencies),
        }
        if args.outage > 0:
            server.kill()
            await asyncio.sleep(args.outage)
            server.run()
            back = time.monotonic()
            recovered = await _post_latencies(procs, 1, args.samples, rng)  # starts at once: includes reconnection
            result["outage"] = {
                "seconds": args.outage,
                "post_after_gettable_s": time.monotonic() - back,
                "post_p99_ms": _percentile(recovered, 0.99) * 1000,
            }
            await asyncio.sleep(max(0.0, 10 - (time.monotonic() - back)))
            v = _varz(monitor)
            result["outage"]["deliveries_first_10s_per_agent"] = v["out_msgs"] / agents
    finally:
        for proc in procs:
            await proc.close()
        for proc in procs:
            proc.stop()
        server.stop()
    return result


async def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from holochain.core.dna import Dna
    from holochain.testing import package_dna

    project = root / "app_spec"
    shutil.copytree(REPO / "examples" / "app_spec", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    dna_path = package_dna(project)
    dna_hash = Dna.from_text(dna_path.read_bytes()).address
    sizes = {}
    for size in args.sizes:
        sizes[size] = await measure_size(args, root / f"n{size}", size, dna_path, dna_hash)
        print(f"{size} agents: {json.dumps(sizes[size])}", flush=True)
    return {"redundancy": args.redundancy, "gossip_ms": args.gossip_ms, "sizes": sizes}


def render(result: dict[str, Any]) -> str:
    lines = [f"R = {result['redundancy']}, gossip every {result['gossip_ms']} ms"]
    lines.append("agents  procs  idle deliv/agent/s  idle B/agent/s  idle CPU (cores)  post->get p50/p99 ms  outage")
    for r in result["sizes"].values():
        idle, post = r["idle"], r["post_to_gettable_ms"]
        outage = r.get("outage")
        o = (
            f"post gettable {outage['post_after_gettable_s']:.2f}s after, "
            f"{outage['deliveries_first_10s_per_agent']:.1f} deliv/agent in 10s"
            if outage
            else "-"
        )
        lines.append(
            f"{r['agents']:>6} {r['processes']:>6}  {idle['deliveries_per_agent_s']:>17.2f}  "
            f"{idle['bytes_per_agent_s']:>14.0f}  {idle['cpu_share_of_one_core']:>16.2f}  "
            f"{post['p50']:>9.0f} / {post['p99']:<9.0f}  {o}"
        )
    sizes = list(result["sizes"].values())
    if len(sizes) >= 2:
        a, b = sizes[0]["idle"]["deliveries_per_agent_s"], sizes[-1]["idle"]["deliveries_per_agent_s"]
        lines.append(f"per-agent idle deliveries, largest / smallest: {b / a if a else float('inf'):.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[30, 300], help="numbers of agents, measured in turn")
    p.add_argument("--processes", type=int, default=10, help="holochain processes the agents are spread over")
    p.add_argument("--redundancy", type=int, default=3)
    p.add_argument("--gossip-ms", type=int, default=1000)
    p.add_argument("--warmup", type=float, default=20.0, help="seconds after start before the idle window")
    p.add_argument("--window", type=float, default=20.0, help="idle window, seconds")
    p.add_argument("--posts", type=int, default=10)
    p.add_argument("--samples", type=int, default=10, help="agents in other processes that get each post")
    p.add_argument("--outage", type=float, default=10.0, help="relay outage, seconds (0: none)")
    p.add_argument("--out", type=Path, help="write the raw figures as JSON")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hc-scale-") as tmp:
        result = asyncio.run(asyncio.wait_for(measure(args, Path(tmp)), 1800))
    print(render(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
