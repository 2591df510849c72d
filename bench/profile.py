"""Where a call's time goes: ``hc run`` under load, sampled with py-spy.

    python -m bench.profile                          # info/instances, create_post, get_post at 8x8
    python -m bench.profile --workloads create_post --secs 15 --out prof/

For each workload: start ``hc run`` (``--persist`` for the zome calls),
attach ``py-spy record`` (blocking sampling at --rate Hz: at 200 Hz it costs
the server under 2 % of its throughput), drive it with the load generator,
then turn the samples into µs per call: a frame's share of the samples times
the server's measured CPU µs per call.  Prints the split by thread and by
area (WebSocket/aiohttp, event loop, JSON-RPC, zome runtime, hashing,
signing, SQLite…), and the top functions by self and by inclusive time.
``--out`` keeps each workload's collapsed stacks (flamegraph.pl/speedscope
input) and the tables as JSON.  Needs py-spy (``make profile`` installs it)
and permission to ptrace the server (root, or kernel.yama.ptrace_scope=0).

py-spy over-weights frames that sit in a syscall (a reply's ``send()``) or
wait for the GIL; cross-check the split between kernel, interpreter and C
libraries with ``perf record -p PID`` and ``perf report --sort dso``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import calls, loadgen
from .procs import BenchError, Server, thread_cpu_seconds
from .suite import make_lab
from .wsclient import rpc

__all__ = ["analyse", "main"]

#: (pattern in a frame's file, area): the first match of a stack's leaf frame names its area
AREAS = [
    ("nacl/", "Ed25519 signing (PyNaCl)"),
    ("holochain/core/crypto", "Ed25519 signing (PyNaCl)"),
    ("holochain/core/address", "addresses (SHA-256, base58)"),
    ("holochain/core/json", "canonical JSON"),
    ("holochain/core/", "core data model (entries, headers)"),
    ("holochain/storage/sqlite", "SQLite store"),
    ("holochain/storage/", "store overlay"),
    ("sqlite3/", "SQLite store"),
    ("holochain/hdk/", "HDK (zome API, argument binding)"),
    ("holochain/ribosome/", "ribosome (greenlets, host calls)"),
    ("greenlet", "ribosome (greenlets, host calls)"),
    ("holochain/instance/", "instance (call pipeline, commit, get)"),
    ("holochain/interfaces/jsonrpc", "JSON-RPC dispatcher"),
    ("holochain/interfaces/", "WebSocket server (our handler)"),
    ("holochain/conductor/", "conductor"),
    ("aiohttp/", "aiohttp WebSocket"),
    ("uvloop/", "event loop (uvloop/asyncio)"),
    ("asyncio/", "event loop (uvloop/asyncio)"),
    ("zomes/", "zome code"),
    ("blog", "zome code"),
    ("dataclasses", "HDK (zome API, argument binding)"),
    ("threading.py", "threads"),
    ("queue.py", "threads"),
]

_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _split(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match:
        return frame, ""
    return match.group("fn"), match.group("file")


def _area(file: str, fn: str) -> str:
    for pattern, area in AREAS:
        if pattern in file:
            return area
    if "zomes" in file or file.endswith("code/__init__.py"):
        return "zome code"
    return "other (" + (file.rsplit("/", 1)[-1] or fn) + ")"


_WRAPPERS = ("click/", "holochain/cli/", "asyncio/runners.py", "uvloop/__init__", "threading.py", "(hc)")


def analyse(
    collapsed: str, us_per_call: float, thread_cpu: dict[str, float] | None = None, top: int = 25
) -> dict[str, Any]:
    """Turn py-spy ``--format raw --threads`` output into µs-per-call tables.

    ``thread_cpu`` maps native thread ids to the CPU seconds each used while
    sampled (from /proc): each thread's samples then share that thread's part
    of ``us_per_call``, so a thread that py-spy sees "active" while it waits
    in fsync is not over-counted.  Without it, every sample weighs the same.
    """
    stacks: list[tuple[str, list[str], int]] = []
    samples_of: Counter[str] = Counter()
    names: dict[str, str] = {}
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        match = re.match(r"^thread \((\w+)\):?\s*(.*)$", frames[0])
        tid, name = (match.group(1), match.group(2) or match.group(1)) if match else ("main", "main")
        frames = frames[1:] if match else frames
        if not frames:
            continue
        names[tid] = "sqlite writer" if "sqlite-writer" in name else name
        stacks.append((tid, frames, int(count_text)))
        samples_of[tid] += int(count_text)
    total_samples = sum(samples_of.values())
    cpu = {tid: thread_cpu.get(tid, 0.0) for tid in samples_of} if thread_cpu else {}
    cpu_total = sum(cpu.values())
    us_of = (
        {
            tid: (us_per_call * cpu[tid] / cpu_total if cpu_total else us_per_call * n / total_samples)
            for tid, n in samples_of.items()
        }
        if total_samples
        else {}
    )

    by_thread: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for tid, frames, count in stacks:
        weight = us_of[tid] * count / samples_of[tid]
        by_thread[names[tid]] += weight
        fn, file = _split(frames[-1])
        by_area[_area(file, fn)] += weight
        self_time[f"{fn} ({file})"] += weight
        for name in {f"{f} ({p})" for f, p in map(_split, frames)}:
            if not any(w in name for w in _WRAPPERS):
                inclusive[name] += weight

    def table(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"name": k, "us_per_call": round(v, 2), "share": round(v / us_per_call, 4) if us_per_call else 0.0}
            for k, v in counter.most_common(n)
        ]

    return {
        "samples": total_samples,
        "us_per_call": us_per_call,
        "weighted_by_thread_cpu": bool(cpu_total),
        "threads": table(by_thread, 10),
        "areas": table(by_area, 40),
        "self": table(self_time, top),
        "inclusive": table(inclusive, top),
    }


def _render(name: str, load: dict[str, Any], result: dict[str, Any]) -> str:
    lines = [
        f"\n=== {name}: {load['cps']:,.0f} calls/s at {load['conns']}x{load['inflight']}, "
        f"{result['us_per_call']:.1f} µs server CPU per call, {result['samples']} samples"
    ]
    for title, key in (
        ("by thread", "threads"),
        ("by area (leaf frame)", "areas"),
        ("top functions, self", "self"),
        ("top functions, inclusive", "inclusive"),
    ):
        lines.append(f"\n  {title}:\n  {'µs/call':>8} {'share':>6}  name")
        for row in result[key]:
            lines.append(f"  {row['us_per_call']:>8.1f} {100 * row['share']:>5.1f}%  {row['name']}")
    return "\n".join(lines)


def _py_spy() -> str:
    here = Path(sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise BenchError("py-spy is not installed: `make profile` (or `pip install py-spy`) installs it")
    return found


def profile_workload(
    lab: Any,
    workload: str,
    *,
    conns: int,
    inflight: int,
    secs: float,
    rate: int,
    out: Path | None,
    store: str = "sqlite",
) -> dict[str, Any]:
    persist = workload != "info/instances" and store == "sqlite"
    server: Server = lab.hc_run(lab.dir(f"profile-{workload.replace('/', '-')}"), persist=persist).start()
    try:
        assert server.port is not None
        if workload == "info/instances":
            body, expect = calls.INFO, "test-instance"
        elif workload == "create_post":
            body, expect = calls.create_post("profile"), calls.OK
        elif workload == "get_post":
            for i in range(20):  # a chain with some entries in it, like a used instance's
                rpc(
                    server.port,
                    "call",
                    {
                        "instance_id": calls.INSTANCE_ID,
                        "zome": "blog",
                        "function": "create_post",
                        "args": {"content": f"filler {i}"},
                    },
                )
            content = "profiletarget"
            result = rpc(
                server.port,
                "call",
                {
                    "instance_id": calls.INSTANCE_ID,
                    "zome": "blog",
                    "function": "create_post",
                    "args": {"content": content},
                },
            )
            body, expect = calls.get_post(json.loads(result)["Ok"]), content
        else:
            raise BenchError(f"unknown workload {workload}; use info/instances, create_post or get_post")
        raw = (
            lab.root
            / f"{workload.replace('/', '-')}{'' if persist or workload == 'info/instances' else '-memory'}.collapsed"
        )
        spy = subprocess.Popen(
            [
                _py_spy(),
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                str(rate),
                "--duration",
                str(int(secs + 2)),
                "--format",
                "raw",
                "--threads",
                "-o",
                str(raw),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(1.0)  # attach
        before = thread_cpu_seconds(server.pid)
        load = loadgen.closed_loop(
            lab.wsload,
            server.port,
            conns=conns,
            inflight=inflight,
            secs=secs,
            warm=0.3,
            body=body,
            expect=expect,
            server_pid=server.pid,
        )
        after = thread_cpu_seconds(server.pid)
        spy_out, _ = spy.communicate(timeout=secs + 60)
        if spy.returncode != 0 or not raw.exists():
            raise BenchError(f"py-spy failed: {spy_out[-1000:]}")
    finally:
        server.stop()
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    result = analyse(raw.read_text(encoding="utf-8"), load["server_us_per_call"], used)
    result["load"] = load
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw, out / raw.name)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="info/instances,create_post,get_post")
    p.add_argument("--load", default="8x8", help="connections x calls in flight (default 8x8)")
    p.add_argument("--secs", type=float, default=10.0)
    p.add_argument("--rate", type=int, default=200, help="samples per second (default 200)")
    p.add_argument(
        "--store",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="store of the zome-call workloads: sqlite (hc run --persist, the default) or memory",
    )
    p.add_argument("--out", type=Path, help="keep collapsed stacks and a JSON of the tables here")
    args = p.parse_args(argv)
    conns, inflight = (int(x) for x in args.load.lower().split("x"))
    root = Path(tempfile.mkdtemp(prefix="hc-profile-"))
    results = {}
    try:
        lab = make_lab(root, lambda text: print(text, flush=True))
        for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
            results[workload] = profile_workload(
                lab,
                workload,
                conns=conns,
                inflight=inflight,
                secs=args.secs,
                rate=args.rate,
                out=args.out,
                store=args.store,
            )
            print(_render(workload, results[workload]["load"], results[workload]), flush=True)
    except BenchError as exc:
        print(f"profile failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.out is not None:
        (args.out / "profile.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
