"""The commit path without the interface: ``Instance.call`` in a loop, in a
process of its own, on uvloop, with the store ``hc run --persist`` uses
(SQLite, synchronous=FULL, group commit).  Run by ``python -m bench``:

    python -m bench.inprocess commit --dna D --dir DIR --secs S --warm W --inflight 1,32,64
    python -m bench.inprocess build  --dna D --dir DIR --length L
    python -m bench.inprocess instances --dna D --dir DIR --count 20 --inflight 8

``commit`` keeps K calls in flight (K worker coroutines, each awaiting its
call's reply: the same durability wait a WebSocket reply has) and reports
calls/s, latency and process CPU per call (all threads, as the interface
figures count the conductor's), split into the event loop's thread and the
SQLite writer process.  ``build`` grows the chain of ``hc run``'s
instance (same DNA, agent ``testAgent``, instance ``test-instance``) in
``DIR`` (a ``.hc`` directory) to ``L`` records, quickly, so ``hc run
--persist`` can then be measured on a long chain; it also reports the
in-process commit cost at the start and at the end of the chain.

This is the one module of the benchmark that uses the conductor's internal
API (Instance, SqliteStore); keep it in step when those change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import uvloop

from holochain.conductor.conductor import load_dna_file
from holochain.core.crypto import AgentKey
from holochain.instance.instance import Instance
from holochain.storage.sqlite import SqliteStore, writer_process_pid

from .procs import cpu_seconds

__all__ = ["open_instance", "commit_window", "build", "commit", "main"]

HC_RUN_AGENT = "testAgent"  # `hc run`'s default --agent-name
INSTANCE_ID = "test-instance"
WINDOW = 1000  # calls issued before waiting for them (build)


async def open_instance(
    dna_path: Path, directory: Path, instance_id: str = INSTANCE_ID, agent: str = HC_RUN_AGENT
) -> Instance:
    dna = load_dna_file(dna_path)
    store = SqliteStore(directory, synchronous="full", label=f"instance '{instance_id}'")
    instance = Instance(instance_id, dna, AgentKey.for_test_agent(agent), agent, store)
    await instance.initialize()
    instance.start()
    return instance


def _check_ok(text: str) -> None:
    if not orjson.loads(text).get("Ok"):
        raise RuntimeError(f"create_post did not succeed: {text[:300]}")


def _machine_busy() -> float:
    """CPU seconds all processes have used (user, nice, system, irq, softirq), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def commit_window(
    instance: Instance | list[Instance], *, inflight: int, secs: float, warm: float, tag: str
) -> dict[str, Any]:
    """Closed loop of ``inflight`` concurrent create_post calls (over several instances: the
    workers take them in turn)."""
    instances = instance if isinstance(instance, list) else [instance]
    counter = iter(range(1, 1 << 62))
    latencies: list[float] = []
    state = {"recording": False, "stop": False, "calls": 0}

    async def worker(instance: Instance) -> None:
        while not state["stop"]:
            t = time.perf_counter()
            out = instance.call(
                "blog", "create_post", {"content": f"inproc {tag} {next(counter)}", "in_reply_to": None}
            )
            if isinstance(out, str):
                await asyncio.sleep(0)  # nothing to wait for: still let the other workers run
            else:
                out = await out
            if state["recording"]:
                latencies.append(time.perf_counter() - t)
                state["calls"] += 1
            _check_ok(out)

    workers = [asyncio.ensure_future(worker(instances[k % len(instances)])) for k in range(inflight)]
    await asyncio.sleep(warm)
    state["recording"] = True
    writer_pid = writer_process_pid()  # the SQLite writer is a process of its own
    writer0 = cpu_seconds(writer_pid) if writer_pid else 0.0
    t0, cpu0, main0, busy0 = time.perf_counter(), time.process_time(), time.thread_time(), _machine_busy()
    await asyncio.sleep(secs)
    state["recording"] = False
    elapsed, cpu, main = time.perf_counter() - t0, time.process_time() - cpu0, time.thread_time() - main0
    writer = (cpu_seconds(writer_pid) if writer_pid else 0.0) - writer0
    cpu += writer
    other = _machine_busy() - busy0 - cpu
    calls = state["calls"]
    state["stop"] = True
    await asyncio.gather(*workers)
    latencies.sort()
    return {
        "inflight": inflight,
        "calls": calls,
        "secs": round(elapsed, 4),
        "cps": round(calls / elapsed, 1),
        "p50_ms": round(1e3 * _quantile(latencies, 0.5), 4),
        "p99_ms": round(1e3 * _quantile(latencies, 0.99), 4),
        "cpu_us_per_call": round(1e6 * cpu / max(calls, 1), 2),
        "cpu_pct": round(100 * cpu / elapsed, 1),
        "main_thread_us_per_call": round(1e6 * main / max(calls, 1), 2),
        "writer_us_per_call": round(1e6 * writer / max(calls, 1), 2),
        "other_cpu_pct": round(max(0.0, 100 * other / elapsed), 1),
        "chain_length_after": sum(i.chain.length for i in instances),
        "instances": len(instances),
    }


async def _issue(instance: Instance, n: int, start: int) -> None:
    """Issue ``n`` create_post calls without waiting in between, then wait for all."""
    waits = []
    for i in range(start, start + n):
        out = instance.call("blog", "create_post", {"content": f"chain {i}", "in_reply_to": None})
        if isinstance(out, str):
            _check_ok(out)
        else:
            waits.append(out)
    for text in await asyncio.gather(*waits):
        _check_ok(text)


async def build(dna_path: Path, directory: Path, length: int) -> dict[str, Any]:
    instance = await open_instance(dna_path, directory)
    try:
        t0 = time.perf_counter()
        start_length = instance.chain.length
        windows: list[tuple[int, float]] = []  # (chain length before, µs per commit)
        i = 0
        while instance.chain.length < length:
            n = min(WINDOW, length - instance.chain.length)
            before, w0 = instance.chain.length, time.perf_counter()
            await _issue(instance, n, i)
            windows.append((before, 1e6 * (time.perf_counter() - w0) / n))
            i += n
        secs = time.perf_counter() - t0
        full = [w for w in windows if w[0] >= 100]
        return {
            "length": instance.chain.length,
            "added": instance.chain.length - start_length,
            "secs": round(secs, 2),
            "first_window_us_per_commit": round(full[0][1], 1) if full else None,
            "last_window_us_per_commit": round(full[-1][1], 1) if full else None,
            "first_window_at": full[0][0] if full else None,
            "last_window_at": full[-1][0] if full else None,
        }
    finally:
        instance.close()


async def commit(
    dna_path: Path, directory: Path, inflights: list[int], secs: float, warm: float
) -> list[dict[str, Any]]:
    instance = await open_instance(dna_path, directory)
    try:
        return [await commit_window(instance, inflight=k, secs=secs, warm=warm, tag=f"k{k}") for k in inflights]
    finally:
        instance.close()


async def instances(
    dna_path: Path, directory: Path, count: int, inflight: int, total: int, secs: float, warm: float, reps: int
) -> list[dict[str, Any]]:
    """Total durable create_post calls/s of ``count`` instances committing at once in one
    process (one writer process, a thread per store) against one instance alone, windows
    alternated: ``each`` with the same calls in flight per instance (``inflight`` each, as
    if every instance had its own clients), ``total`` with ``total`` in flight in all."""
    one = await open_instance(dna_path, directory / "one")
    many = [await open_instance(dna_path, directory / f"i{k}", f"instance{k}", f"agent{k}") for k in range(count)]
    rows = []
    try:
        for rep in range(reps):
            for kind, one_inflight, many_inflight in (("each", inflight, inflight * count), ("total", total, total)):
                alone = await commit_window(one, inflight=one_inflight, secs=secs, warm=warm, tag=f"one{rep}{kind}")
                together = await commit_window(
                    many, inflight=many_inflight, secs=secs, warm=warm, tag=f"many{rep}{kind}"
                )
                rows.append({"rep": rep, "count": count, "kind": kind, "one": alone, "many": together})
    finally:
        one.close()
        for instance in many:
            instance.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("commit", help="closed-loop create_post calls in process")
    c.add_argument("--dna", type=Path, required=True)
    c.add_argument("--dir", type=Path, required=True)
    c.add_argument("--secs", type=float, default=2.0)
    c.add_argument("--warm", type=float, default=0.5)
    c.add_argument("--inflight", default="1,32,64")
    m = sub.add_parser("instances", help="COUNT instances committing at once against one alone")
    m.add_argument("--dna", type=Path, required=True)
    m.add_argument("--dir", type=Path, required=True)
    m.add_argument("--count", type=int, default=20)
    m.add_argument("--inflight", type=int, default=8, help="calls in flight per instance ('each' rows)")
    m.add_argument("--total", type=int, default=64, help="calls in flight in all ('total' rows)")
    m.add_argument("--secs", type=float, default=2.0)
    m.add_argument("--warm", type=float, default=0.5)
    m.add_argument("--reps", type=int, default=3)
    b = sub.add_parser("build", help="grow hc run's chain in DIR to LENGTH records")
    b.add_argument("--dna", type=Path, required=True)
    b.add_argument("--dir", type=Path, required=True)
    b.add_argument("--length", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "commit":
        inflights = [int(k) for k in args.inflight.split(",")]
        result: Any = uvloop.run(commit(args.dna, args.dir, inflights, args.secs, args.warm))
    elif args.command == "instances":
        result = uvloop.run(
            instances(args.dna, args.dir, args.count, args.inflight, args.total, args.secs, args.warm, args.reps)
        )
    else:
        result = uvloop.run(build(args.dna, args.dir, args.length))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
