"""What the dashboard and /metrics cost: the zome-call hot path with and without the call log,
and a chain page at the head of a long chain against one of a short chain, in one run.

    python -m bench.dashboard                       # ~1 min
    python -m bench.dashboard --reps 5 --secs 3 --chain 100000

**Hot path.**  One conductor (``hc run --persist``'s configuration: SQLite,
synchronous=FULL, group commit), ``create_post`` through
``Conductor.call_zome`` (the path every interface call takes) with K calls
in flight, in alternating windows: *noted* (the conductor's call log on,
as always) and *bare* (the call log off, ``conductor.calls = None``: the
code before the dashboard).  While noted, ``/metrics`` is rendered every
half second, as a busy scrape job would.  Prints calls/s of each and the
ratio noted/bare per repetition and its median.

**Chain pages.**  The dashboard's head page (50 records) of a chain of
``--chain`` records, against the same page of a 100-record chain: the ratio
stays near 1 when a page reads only its records.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from holochain.cli.run import dev_config
from holochain.conductor.call_log import CallLog
from holochain.conductor.conductor import Conductor, load_dna_file
from holochain.interfaces.dashboard import state
from holochain.interfaces.dashboard.metrics import metrics_registry, render_metrics
from holochain.interfaces.service import ConductorService
from holochain.ribosome.packager import package_project, write_package

from .inprocess import HC_RUN_AGENT, INSTANCE_ID, _check_ok

REPO = Path(__file__).resolve().parents[1]


def _package(root: Path) -> Path:
    import shutil

    project = root / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    tree, _ = package_project(project)
    out = project / "dist" / "blog.dna.json"
    write_package(tree, out)
    return out


async def _service(dna: Path, directory: Path) -> ConductorService:
    config = dev_config(
        dna, load_dna_file(dna).address, port=0, interface="websocket", agent_name=HC_RUN_AGENT, persist=True
    )
    config.interfaces = []
    service = ConductorService(Conductor(config, base_dir=directory, save_config=False), announce=lambda _: None)
    await service.start()
    return service


async def _window(conductor: Conductor, inflight: int, secs: float, tag: str, scrape: Any = None) -> float:
    counter = iter(range(1, 1 << 62))
    state_ = {"stop": False, "calls": 0}

    async def worker() -> None:
        while not state_["stop"]:
            out = conductor.call_zome(INSTANCE_ID, "blog", "create_post", {"content": f"{tag} {next(counter)}"})
            if not isinstance(out, str):
                out = await out
            _check_ok(out)
            state_["calls"] += 1

    async def scraper() -> None:
        while not state_["stop"]:
            scrape()
            await asyncio.sleep(0.5)

    tasks = [asyncio.ensure_future(worker()) for _ in range(inflight)]
    if scrape is not None:
        tasks.append(asyncio.ensure_future(scraper()))
    await asyncio.sleep(0.2)  # warm
    c0, t0 = state_["calls"], time.perf_counter()
    await asyncio.sleep(secs)
    calls, elapsed = state_["calls"] - c0, time.perf_counter() - t0
    state_["stop"] = True
    await asyncio.gather(*tasks)
    return calls / elapsed


async def hot_path(dna: Path, root: Path, reps: int, secs: float, inflight: int) -> dict[str, Any]:
    service = await _service(dna, root / "hot")
    conductor = service.conductor
    registry = metrics_registry(service)
    log = CallLog()
    rows = []
    try:
        for rep in range(reps):
            order = ("bare", "noted") if rep % 2 == 0 else ("noted", "bare")
            cps: dict[str, float] = {}
            for mode in order:
                conductor.calls = log if mode == "noted" else None
                scrape = (lambda: render_metrics(registry)) if mode == "noted" else None
                cps[mode] = await _window(conductor, inflight, secs, f"{mode}{rep}", scrape)
            rows.append({"rep": rep, **{k: round(v, 1) for k, v in cps.items()}, "ratio": cps["noted"] / cps["bare"]})
            print(
                f"  rep {rep}: bare {cps['bare']:8.1f} calls/s   noted+scraped {cps['noted']:8.1f} calls/s   "
                f"ratio {cps['noted'] / cps['bare']:.3f}",
                flush=True,
            )
        fast = _fast_calls(conductor)
    finally:
        conductor.calls = log
        await service.stop()
    note_us = _note_cost()
    bare = statistics.median(r["bare"] for r in rows)
    print(
        f"  CallLog.note alone: {note_us:.2f} µs per call = {100 * note_us * bare / 1e6:.2f} % of a call "
        f"at the bare median of {bare:.0f} calls/s",
        flush=True,
    )
    return {
        "inflight": inflight,
        "rows": rows,
        "median_ratio": statistics.median(r["ratio"] for r in rows),
        "note_us": note_us,
        "fast_call_cost_ratio": fast,
    }


def _fast_calls(conductor: Conductor, n: int = 3000, reps: int = 7) -> float:
    """The worst case: ``get_greeting`` (answered at once, nothing written) in a tight loop,
    bare and noted in alternation; prints and returns the median ratio of their costs."""
    log = CallLog()
    ratios = []
    for _ in range(reps):
        cost = {}
        for mode in ("bare", "noted"):
            conductor.calls = log if mode == "noted" else None
            t0 = time.perf_counter()
            for _ in range(n):
                conductor.call_zome(INSTANCE_ID, "blog", "get_greeting", {})
            cost[mode] = (time.perf_counter() - t0) / n
        ratios.append(cost["noted"] / cost["bare"])
    ratio = statistics.median(ratios)
    print(
        f"  get_greeting (no commit) in a tight loop: {1e6 * cost['bare']:.1f} µs a call bare; "
        f"noted/bare cost ratio {ratio:.3f} (median of {reps})",
        flush=True,
    )
    return ratio


def _note_cost(n: int = 200_000) -> float:
    """µs of one ``CallLog.note`` (what the hot path gained), timed alone."""
    log = CallLog()
    t0 = time.perf_counter()
    for _ in range(n):
        log.note(INSTANCE_ID, "blog", "create_post", time.perf_counter(), "ok")
    return 1e6 * (time.perf_counter() - t0) / n


async def _grow(conductor: Conductor, length: int) -> None:
    instance = conductor.instances[INSTANCE_ID]
    i = 0
    while instance.chain.length < length:
        waits = []
        for _ in range(min(1000, length - instance.chain.length)):
            out = conductor.call_zome(INSTANCE_ID, "blog", "create_post", {"content": f"chain {i}"})
            i += 1
            if not isinstance(out, str):
                waits.append(out)
        for text in await asyncio.gather(*waits):
            _check_ok(text)


def _page_cost(service: ConductorService, repeat: int = 200) -> float:
    instance = service.conductor.instances[INSTANCE_ID]
    t0 = time.perf_counter()
    for _ in range(repeat):
        page = state.chain_page(instance, None, 50)
    assert len(page["records"]) == 50
    return (time.perf_counter() - t0) / repeat


async def chain_pages(dna: Path, root: Path, length: int) -> dict[str, Any]:
    costs = {}
    for name, size in (("short", 100), ("long", length)):
        service = await _service(dna, root / name)
        try:
            t0 = time.perf_counter()
            await _grow(service.conductor, size)
            print(f"  built a {size}-record chain in {time.perf_counter() - t0:.1f}s", flush=True)
            costs[name] = _page_cost(service)
        finally:
            await service.stop()
    ratio = costs["long"] / costs["short"]
    print(
        f"  head page of 50: {1e3 * costs['short']:.3f} ms at 100 records, "
        f"{1e3 * costs['long']:.3f} ms at {length} records: ratio {ratio:.2f}",
        flush=True,
    )
    return {"short_ms": 1e3 * costs["short"], "long_ms": 1e3 * costs["long"], "length": length, "ratio": ratio}


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        root = Path(tmp)
        dna = _package(root)
        print(f"hot path: create_post through Conductor.call_zome, {args.inflight} in flight, {args.secs}s windows")
        hot = await hot_path(dna, root, args.reps, args.secs, args.inflight)
        print(f"  median ratio noted/bare: {hot['median_ratio']:.3f}")
        print("chain pages:")
        await chain_pages(dna, root, args.chain)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=4, help="alternating window pairs (default 4)")
    p.add_argument("--secs", type=float, default=2.0, help="seconds per window (default 2)")
    p.add_argument("--inflight", type=int, default=32, help="calls in flight (default 32)")
    p.add_argument("--chain", type=int, default=20_000, help="records of the long chain (default 20000)")
    args = p.parse_args(argv)
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
