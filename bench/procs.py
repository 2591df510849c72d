"""Server processes under test: started in their own process group, watched
through ``/proc`` (CPU time, resident memory), always stopped.

Every server binds to 127.0.0.1 and announces its port on stdout; a
:class:`Server` waits for that line (bounded), then keeps draining stdout so a
chatty server can never block on a full pipe.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "Server",
    "BenchError",
    "children",
    "rss_mb",
    "cpu_seconds",
    "thread_cpu_seconds",
    "venv_script",
    "free_port",
]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The benchmark could not run a step (a server did not start, a tool is missing…)."""


def venv_script(name: str) -> list[str]:
    """The command of one of our console scripts (``hc``, ``holochain``) in this environment."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    module = {"hc": "holochain.cli.hc", "holochain": "holochain.cli.holochain"}[name]
    return [sys.executable, "-m", module]


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (a conductor's SQLite writer process)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text(encoding="ascii").split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def rss_mb(pid: int) -> float:
    """Resident set size of a process and of its children, in MiB."""
    total = 0.0
    for one in (pid, *children(pid)):
        try:
            with open(f"/proc/{one}/status", encoding="ascii") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            if one == pid:
                raise BenchError(f"process {pid} has no VmRSS") from None
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) and of its children, in seconds."""
    total = cpu_seconds_of(Path(f"/proc/{pid}/stat"))
    for child in children(pid):
        try:
            total += cpu_seconds_of(Path(f"/proc/{child}/stat"))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process and of its children, by native thread id."""
    found = {}
    for one in (pid, *children(pid)):
        try:
            tasks = list(Path(f"/proc/{one}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                found[task.name] = cpu_seconds_of(task / "stat")
            except (FileNotFoundError, ProcessLookupError):
                continue  # the thread ended meanwhile
    return found


def cpu_seconds_of(stat_path: Path) -> float:
    with open(stat_path, encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server subprocess.

    ``ready`` is a regular expression matched against each stdout line; its
    first group, if any, is the bound port.  ``ready_s`` is the time from
    spawning to that line.
    """

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        cwd: Path,
        ready: str,
        env: dict[str, str] | None = None,
        timeout: float = 120.0,
        stderr_path: Path | None = None,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.cwd = cwd
        self.ready = re.compile(ready)
        self.env = {**os.environ, **(env or {})}
        self.timeout = timeout
        self.stderr_path = stderr_path or cwd / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.ready_s: float | None = None
        self.lines: deque[str] = deque(maxlen=200)
        self._drain: threading.Thread | None = None
        self.spawned_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Server:
        """Spawn and wait until ready."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> Server:
        """Start the process without waiting (``spawned_at`` is its perf_counter time)."""
        stderr = open(self.stderr_path, "wb")
        self.spawned_at = time.perf_counter()
        try:
            self.proc = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        finally:
            stderr.close()
        return self

    def wait_ready(self) -> Server:
        """Read stdout until the ready line (bounded by ``timeout`` from spawning)."""
        assert self.proc is not None and self.proc.stdout is not None
        t0 = self.spawned_at
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        buffered = b""
        deadline = t0 + self.timeout
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise BenchError(f"{self.name} did not become ready within {self.timeout:.0f} s{self._tail()}")
                if not selector.select(min(left, 0.5)):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise BenchError(f"{self.name} exited with {self.proc.wait()} before it was ready{self._tail()}")
                buffered += chunk
                *complete, buffered = buffered.split(b"\n")
                for raw in complete:
                    line = raw.decode("utf-8", "replace")
                    self.lines.append(line)
                    match = self.ready.search(line)
                    if match:
                        self.ready_s = time.perf_counter() - t0
                        if match.groups():
                            self.port = int(match.group(1))
                        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
                        self._drain.start()
                        return self
        except BaseException:
            self.stop()
            raise
        finally:
            selector.close()

    def _drain_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _tail(self) -> str:
        try:
            err = self.stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            err = ""
        out = "\n".join(self.lines)[-1000:]
        return f"\n--- stdout ---\n{out}\n--- stderr ---\n{err}" if (out or err) else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchError(f"{self.name} died during the benchmark{self._tail()}")

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM the process group, then SIGKILL it if it does not stop in time."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if self._drain is not None:
            self._drain.join(2)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
