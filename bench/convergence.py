"""``python -m bench.convergence``: how fast a networked DHT converges.

    python -m bench.convergence                       # 10 conductors, 40 posts, 1 s gossip
    python -m bench.convergence --conductors 5 --posts 20 --gossip-ms 500 --out conv.json
    python -m bench.convergence --redundancy 3        # sharded: each post held by 3

Starts a ``nats-server`` and N ``holochain`` processes (each its own
conductor, one app_spec instance, consistency signals on) on 127.0.0.1, then
one post at a time, each by the next conductor in turn: from the reply to
``create_post``, the time until every holder *holds* it (its ``Hold``
consistency signal) and until every conductor *gets* it (``get_post``
polled every 20 ms at each).  Then a newcomer joins and the time until it
holds every post is measured (gossip catching a conductor up).  Figures are
p50 / p99 / max in milliseconds and in gossip intervals.  Every step is
bounded in time; every process is stopped by pid.  See README.md,
"Benchmarks".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HOLOCHAIN = str(Path(sys.executable).parent / "holochain")
_BOUND = re.compile(r"\*\*\* Bound interface '[^']+' to port: (\d+)")
_DONE = "*** Done. All interfaces started."


class Conductor:
    """One `holochain -c` process and a client connected to it."""

    def __init__(self, root: Path, name: str, dna_path: Path, dna_hash: str, network: dict[str, Any]) -> None:
        self.name = name
        root.mkdir(parents=True, exist_ok=True)
        net = "\n".join(f"{k} = {json.dumps(v)}" for k, v in network.items())
        (root / "conductor-config.toml").write_text(
            f"""persistence_dir = {json.dumps(str(root))}
[[agents]]
id = "app"
name = "{name}"
public_address = "[SHOULD BE REWRITTEN]"
keystore_file = "[UNUSED]"
test_agent = true
[[dnas]]
id = "app-spec"
file = {json.dumps(str(dna_path))}
hash = "{dna_hash}"
[[instances]]
id = "app"
dna = "app-spec"
agent = "app"
[instances.storage]
type = "memory"
[[interfaces]]
id = "admin"
admin = true
[interfaces.driver]
type = "websocket"
port = 0
[[interfaces.instances]]
id = "app"
[signals]
consistency = true
trace = false
[network]
{net}
""",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [HOLOCHAIN, "-c", str(root / "conductor-config.toml")],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.port = 0
        self.client: Any = None
        self.agent = ""
        self.holds: dict[str, float] = {}  # address -> when its Hold signal arrived

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"conductor {self.name} exited with {self.proc.wait()}")
            match = _BOUND.search(line)
            if match:
                self.port = int(match.group(1))
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

        self.client = await Client.connect(f"ws://127.0.0.1:{self.port}", timeout=30)
        self.agent = (await self.client.request("admin/agent/list", {}))[0]["public_address"]
        self._reader = asyncio.ensure_future(self._read_signals())

    async def _read_signals(self) -> None:
        while True:
            item = await self.client.signals.get()
            signal_ = item.get("signal") or {}
            if signal_.get("signal_type") == "Consistency":
                event = json.loads(signal_["event"])
                if isinstance(event, dict) and "Hold" in event:
                    self.holds.setdefault(event["Hold"], time.monotonic())

    async def call(self, function: str, args: dict[str, Any]) -> Any:
        return await self.client.call_zome("app", "blog", function, args)

    async def close(self) -> None:
        if self.client is not None:
            self._reader.cancel()
            await self.client.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _start_all(root: Path, names: list[str], dna_path: Path, dna_hash: str, network: dict[str, Any]) -> list[Conductor]:
    conductors = [Conductor(root / n, n, dna_path, dna_hash, network) for n in names]
    errors: list[BaseException] = []

    def ready(c: Conductor) -> None:
        try:
            c.wait_ready()
        except BaseException as exc:  # reported after every thread is done
            errors.append(exc)

    threads = [threading.Thread(target=ready, args=(c,)) for c in conductors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    if errors:
        for c in conductors:
            c.stop()
        raise errors[0]
    return conductors


async def _until(condition: Any, timeout: float, what: str) -> float:
    """Poll until ``condition()`` (bounded); returns when it became true (monotonic)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g}s")
        await asyncio.sleep(0.005)
    return time.monotonic()


async def _gettable(conductor: Conductor, address: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        result = await conductor.call("get_post", {"post_address": address})
        if result.get("Ok"):
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} not gettable at {conductor.name} within {timeout:g}s")
        await asyncio.sleep(0.02)


def _stats(values: list[float], unit: float) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    out = {"p50_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000, "max_ms": ordered[-1] * 1000}
    out.update({"p50_gossip": out["p50_ms"] / 1000 / unit, "p99_gossip": out["p99_ms"] / 1000 / unit})
    return out


async def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from holochain.net.location import holders_for
    from holochain.testing import package_dna
    from holochain.testing.nats_server import NatsServer

    project = root / "app_spec"
    shutil.copytree(REPO / "examples" / "app_spec", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    dna_path = package_dna(project)
    from holochain.core.dna import Dna

    dna_hash = Dna.from_text(dna_path.read_bytes()).address
    gossip = args.gossip_ms / 1000
    server = NatsServer.start(root / "nats")
    network = {
        "type": "nats",
        "servers": [server.url],
        "redundancy": args.redundancy,
        "gossip_interval_ms": args.gossip_ms,
        "heartbeat_interval_ms": 1000,
        "request_timeout_ms": 10000,
    }
    names = [f"c{i}" for i in range(args.conductors)]
    started = time.monotonic()
    conductors = _start_all(root, names, dna_path, dna_hash, network)
    newcomer: Conductor | None = None
    try:
        boot = time.monotonic() - started
        await asyncio.gather(*(c.connect() for c in conductors))
        agents = [c.agent for c in conductors]

        def holders(address: str, among: list[Conductor]) -> list[Conductor]:
            chosen = set(holders_for(address, [c.agent for c in among], args.redundancy))
            return [c for c in among if c.agent in chosen]

        # warm-up: presence formed, every path used once
        warm = (await conductors[0].call("create_post", {"content": "warm-up", "in_reply_to": None}))["Ok"]
        await _until(
            lambda: all(warm in c.holds for c in holders(warm, conductors) if c is not conductors[0]),
            60,
            "warm-up post held",
        )
        commit, held, gettable = [], [], []
        posts = []
        for i in range(args.posts):
            author = conductors[i % len(conductors)]
            t0 = time.monotonic()
            address = (
                await author.call("create_post", {"content": f"post {i} by {author.name}", "in_reply_to": None})
            )["Ok"]
            t1 = time.monotonic()
            posts.append(address)
            commit.append(t1 - t0)
            others = [c for c in conductors if c is not author]
            got = await asyncio.gather(*(_gettable(c, address, args.timeout) for c in others))
            must_hold = [c for c in holders(address, conductors) if c is not author]
            await _until(
                lambda: all(address in c.holds for c in must_hold),  # noqa: B023  (awaited here) args.timeout, f"post {i} held by its holders"
            )
            held.append(max([c.holds[address] for c in must_hold] + [t1]) - t1 if must_hold else 0.0)
            gettable.append(max(got) - t1)
            await asyncio.sleep(args.pause)
        # a newcomer catches up by gossip
        t_join = time.monotonic()
        newcomer = _start_all(root, ["newcomer"], dna_path, dna_hash, network)[0]
        await newcomer.connect()
        everyone = conductors + [newcomer]
        owed = [p for p in posts if newcomer in holders(p, everyone)]
        caught = await _until(lambda: all(p in newcomer.holds for p in owed), args.timeout * 3, "newcomer caught up")
        return {
            "conductors": args.conductors,
            "posts": args.posts,
            "redundancy": args.redundancy,
            "gossip_interval_ms": args.gossip_ms,
            "mode": "one holochain process per conductor",
            "boot_s": boot,
            "commit": _stats(commit, gossip),
            "held_by_holders": _stats(held, gossip),
            "gettable_everywhere": _stats(gettable, gossip),
            "newcomer": {
                "posts_owed": len(owed),
                "caught_up_s": caught - t_join,
                "caught_up_gossip": (caught - t_join) / gossip,
            },
            "agents": agents,
        }
    finally:
        for c in conductors + ([newcomer] if newcomer else []):
            await c.close()
            c.stop()
        server.stop()


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['conductors']} conductors ({result['mode']}), {result['posts']} posts, "
        f"redundancy {result['redundancy'] or 'full sync'}, gossip every {result['gossip_interval_ms']} ms; "
        f"booted in {result['boot_s']:.1f} s",
        f"{'after the reply':<28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'p50 G':>8}{'p99 G':>8}",
    ]
    for key, label in (
        ("commit", "create_post reply (from call)"),
        ("held_by_holders", "held by every holder"),
        ("gettable_everywhere", "gettable at every conductor"),
    ):
        s = result[key]
        lines.append(
            f"{label:<28}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}"
            f"{s['p50_gossip']:>8.2f}{s['p99_gossip']:>8.2f}"
        )
    n = result["newcomer"]
    lines.append(
        f"a newcomer held all {n['posts_owed']} posts it should after {n['caught_up_s']:.2f} s "
        f"({n['caught_up_gossip']:.2f} gossip intervals, boot included)"
    )
    lines.append("target: p99 gettable everywhere < 1 s with a 1 s gossip interval")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.convergence", description=__doc__.split("\n\n")[0])
    p.add_argument("--conductors", type=int, default=10)
    p.add_argument("--posts", type=int, default=40)
    p.add_argument("--gossip-ms", type=int, default=1000)
    p.add_argument("--redundancy", type=int, default=0, help="R (0: every conductor holds everything)")
    p.add_argument("--pause", type=float, default=0.05, help="seconds between posts")
    p.add_argument("--timeout", type=float, default=30.0, help="bound on each wait, seconds")
    p.add_argument("--out", type=Path, help="write the raw figures as JSON")
    args = p.parse_args(argv)
    if args.conductors < 2 or args.posts < 1:
        p.error("at least 2 conductors and 1 post")
    with tempfile.TemporaryDirectory(prefix="hc-convergence-") as tmp:
        result = asyncio.run(asyncio.wait_for(measure(args, Path(tmp)), 900))
    print(render(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
