"""The load generator (``wsload.c``): compiled on first use, run per load.

The requests it sends are JSON-RPC templates in which ``@ID@`` stands for
the call's id (see :mod:`bench.calls`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .procs import BenchError

__all__ = ["build", "closed_loop", "burst"]

SOURCE = Path(__file__).with_name("wsload.c")


def build(cache_dir: Path) -> Path:
    """Compile wsload.c with ``cc -O2`` (once per source version)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise BenchError("the load generator needs a C compiler (`cc`); install gcc")
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    exe = cache_dir / f"wsload-{digest}"
    if not exe.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(".tmp")
        done = subprocess.run([cc, "-O2", "-Wall", "-o", str(tmp), str(SOURCE)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"compiling {SOURCE.name} failed:\n{done.stderr}")
        tmp.replace(exe)
    return exe


def _run(exe: Path, args: list[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode not in (0, 3) or not done.stdout.strip():  # 3: timed out, still reports
        raise BenchError(f"load generator failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def closed_loop(
    exe: Path,
    port: int,
    *,
    conns: int,
    inflight: int,
    secs: float,
    warm: float,
    body: str,
    expect: str | None,
    server_pid: int | None,
) -> dict[str, Any]:
    """``conns`` connections × ``inflight`` calls in flight, for ``secs`` after ``warm``."""
    args = [
        "--port",
        str(port),
        "--conns",
        str(conns),
        "--inflight",
        str(inflight),
        "--secs",
        str(secs),
        "--warm",
        str(warm),
        "--body",
        body,
    ]
    if expect:
        args += ["--expect", expect]
    if server_pid:
        args += ["--server-pid", str(server_pid)]
    return _run(exe, args, timeout=warm + secs + 60)


def burst(
    exe: Path, port: int, *, n: int, body: str, expect: str | None, server_pid: int | None, timeout: float
) -> dict[str, Any]:
    """``n`` calls sent at once on one connection; waits for every reply (or ``timeout``)."""
    args = ["--port", str(port), "--burst", str(n), "--body", body, "--timeout", str(timeout)]
    if expect:
        args += ["--expect", expect]
    if server_pid:
        args += ["--server-pid", str(server_pid)]
    return _run(exe, args, timeout=timeout + 30)
