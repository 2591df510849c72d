"""``python -m bench``: measure the conductor against the reference, in one run.

    python -m bench                  # full: 3 repetitions of 2 s per load (~6 min)
    python -m bench --quick          # one short repetition of everything (< 1 min)
    python -m bench --only throughput,hammer --reps 5 --out results.json

Everything runs on 127.0.0.1, and every step is bounded in time.  Prints a
table of medians and ratios to the reference, and the issue's targets;
``--out`` writes every raw figure as JSON.  See README.md, "Benchmarks".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .procs import BenchError
from .report import render, summarize
from .suite import LOADS, REPO, SECTIONS, Settings, make_lab


def _loads(text: str) -> list[tuple[int, int]]:
    try:
        pairs = [tuple(int(x) for x in item.lower().split("x")) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"loads look like 1x1,8x8 (connections x calls in flight), not {text!r}")
    if not pairs or any(len(p) != 2 or min(p) < 1 for p in pairs):
        raise argparse.ArgumentTypeError(f"loads look like 1x1,8x8 (connections x calls in flight), not {text!r}")
    return [(p[0], p[1]) for p in pairs]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1000,10000, not {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers, not {text!r}")
    return sizes


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Settings, list[str]]:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="one short repetition of everything, under a minute")
    p.add_argument("--reps", type=int, help="repetitions (default 3; --quick 1)")
    p.add_argument("--secs", type=float, help="measured seconds per load (default 2; --quick 0.5)")
    p.add_argument("--warm", type=float, help="warm-up seconds before each measured load (default 0.5; --quick 0.2)")
    p.add_argument("--loads", type=_loads, help="connections x in flight, e.g. 1x1,1x32,8x1,8x8 (the default)")
    p.add_argument("--hammer", type=_sizes, help="zome-hammer sizes (default 1000,10000; --quick 1000)")
    p.add_argument("--long-chain", type=int, help="long chain length (default 100000; --quick 5000)")
    p.add_argument("--instances", type=int, help="extra instances for RSS per instance (default 20; --quick 10)")
    p.add_argument("--growth-n", type=int, help="calls the data grows by in `growth` (default 100000; --quick 2000)")
    p.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    p.add_argument("--out", type=Path, help="write the raw figures and the summary as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (servers' stderr, databases)")
    args = p.parse_args(argv)

    quick = args.quick
    settings = Settings(
        reps=args.reps or (1 if quick else 3),
        secs=args.secs or (0.5 if quick else 2.0),
        warm=args.warm if args.warm is not None else (0.2 if quick else 0.5),
        loads=args.loads or list(LOADS),
        hammer=args.hammer or ([1000] if quick else [1000, 10000]),
        long_chain=args.long_chain or (5000 if quick else 100_000),
        extra_instances=args.instances or (10 if quick else 20),
        growth_n=args.growth_n or (2000 if quick else 100_000),
        settle=0.2 if quick else 0.5,
        retries=0 if quick else 2,
    )
    if settings.reps < 1 or settings.secs <= 0 or settings.warm < 0:
        p.error("--reps must be at least 1, --secs positive and --warm not negative")
    if settings.long_chain <= settings.short_chain:
        p.error(f"--long-chain must be longer than {settings.short_chain}")
    if settings.extra_instances < 1:
        p.error("--instances must be at least 1")
    if settings.growth_n < 1:
        p.error("--growth-n must be at least 1")
    sections = list(SECTIONS) if not args.only else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return args, settings, sections


def _log(text: str) -> None:
    print(text, flush=True)


def _meta(settings: Settings, sections: list[str], quick: bool) -> dict[str, Any]:
    def version(cmd: list[str]) -> str | None:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.TimeoutExpired):
            return None

    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": quick,
        "sections": sections,
        "settings": asdict(settings),
        "python": platform.python_version(),
        "node": version(["node", "--version"]),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "loadavg_at_start": os.getloadavg(),
        "commit": version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def main(argv: list[str] | None = None) -> int:
    args, settings, sections = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hc-bench-"))
    raw: dict[str, Any] = {"meta": _meta(settings, sections, args.quick)}
    t0 = time.perf_counter()
    failed: BaseException | None = None
    try:
        lab = make_lab(root, _log)
        for name in sections:
            _log(f"== {name}")
            t = time.perf_counter()
            raw[name] = SECTIONS[name](settings, lab)
            raw["meta"].setdefault("section_secs", {})[name] = round(time.perf_counter() - t, 1)
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        failed = exc
        raw["error"] = str(exc)
    except KeyboardInterrupt as exc:
        failed = exc
        raw["error"] = "interrupted"
    finally:
        raw["meta"]["secs"] = round(time.perf_counter() - t0, 1)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    summary = summarize(raw)
    raw["summary"] = summary
    _log(render(summary))
    _log(f"({raw['meta']['secs']:.0f} s{'; scratch kept in ' + str(root) if args.keep else ''})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
        _log(f"raw figures written to {args.out}")
    if failed is not None:
        print(f"benchmark failed: {raw['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
