"""Shared test fixtures: real conductors in subprocesses, real DNAs, real clients."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
JS_DIR = REPO / "tests" / "js"
BIN = Path(sys.executable).parent
HC = str(BIN / "hc")
HOLOCHAIN = str(BIN / "holochain")

_BOUND = re.compile(r"\*\*\* Bound interface '([^']+)' to port: (\d+)")


def write_project(root: Path, zomes: dict[str, str], *, name: str = "testdna", properties: dict | None = None) -> Path:
    """A DNA project with the given zomes (zome name -> source of its __init__.py)."""
    project = root / name
    (project / "zomes").mkdir(parents=True, exist_ok=True)
    app = {"name": name, "description": "test DNA", "version": "0.1.0"}
    if properties is not None:
        app["properties"] = properties
    (project / "app.json").write_text(json.dumps(app), encoding="utf-8")
    for zome, source in zomes.items():
        code = project / "zomes" / zome / "code"
        code.mkdir(parents=True, exist_ok=True)
        (code / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
        (project / "zomes" / zome / "zome.json").write_text('{"description": ""}', encoding="utf-8")
    return project


def package(project: Path) -> Path:
    """Package a project in-process; returns the .dna.json path."""
    from holochain.ribosome.packager import package_project, write_package

    tree, _ = package_project(project)
    out = project / "dist" / f"{project.name}.dna.json"
    write_package(tree, out)
    return out


def one_instance_config(tmp_path: Path, dna: Path, *, storage: str = 'type = "memory"', extra: str = "") -> Path:
    """A `holochain -c` configuration: test agent alice, instance `app` of ``dna``, an admin
    WebSocket interface `ws` on a free port; ``storage`` is the instance's storage table body,
    ``extra`` more TOML at the end (e.g. a `[logger]` table)."""
    from holochain.core.dna import Dna

    config = tmp_path / "conductor-config.toml"
    config.write_text(f"""
persistence_dir = "{tmp_path / "data"}"
[[agents]]
id = "alice"
name = "alice::app"
public_address = "[SHOULD BE REWRITTEN]"
keystore_file = "[UNUSED]"
test_agent = true
[[dnas]]
id = "blog"
file = "{dna}"
hash = "{Dna.from_text(dna.read_bytes()).address}"
[[instances]]
id = "app"
dna = "blog"
agent = "alice"
[instances.storage]
{storage}
[[interfaces]]
id = "ws"
admin = true
choose_free_port = true
[interfaces.driver]
type = "websocket"
port = 0
[[interfaces.instances]]
id = "app"
{extra}
""")
    return config


def read_until(fd: int, text: str, timeout: float = 60.0) -> str:
    """What the other end of a pty printed, up to (at least) ``text``."""
    import select

    got = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not printed: {got[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                got += os.read(fd, 65536)
            except OSError:  # the other end closed
                break
    return got.decode(errors="replace")


@pytest.fixture(scope="session")
def blog_dna(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example blog DNA, packaged into a temporary directory."""
    import shutil

    root = tmp_path_factory.mktemp("blog")
    project = root / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    return package(project)


class Process:
    """A conductor subprocess: started, waited for, always stopped."""

    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str] | None = None, ready: str = "bound", timeout: float = 30.0
    ) -> None:
        self.args = args
        self.cwd = cwd
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.ports: dict[str, int] = {}
        self.stdout_lines: list[str] = []
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while True:
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{args[0]} did not become ready: {self.stdout_lines}")
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(
                    f"{args} exited with {self.proc.wait()} before it was ready:\n{''.join(self.stdout_lines)}\n{err}"
                )
            self.stdout_lines.append(line)
            match = _BOUND.search(line)
            if match:
                self.ports[match.group(1)] = int(match.group(2))
                if ready == "bound":
                    break
            if ready != "bound" and ready in line:
                break

    @property
    def port(self) -> int:
        return next(iter(self.ports.values()))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode

    def output(self) -> tuple[str, str]:
        """Everything printed (call after stop)."""
        out = "".join(self.stdout_lines) + (self.proc.stdout.read() if self.proc.stdout else "")
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return out, err


@pytest.fixture
def spawn() -> Iterator:
    """Start conductor processes; every one is stopped at the end of the test."""
    started: list[Process] = []

    def start(args: list[str], cwd: Path, **kwargs) -> Process:
        proc = Process(args, cwd, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def hc_run(spawn, blog_dna: Path, tmp_path: Path):
    """`hc run` on the example blog DNA, on a free port."""

    def start(*extra: str, dna: Path = blog_dna, cwd: Path = tmp_path) -> Process:
        return spawn([HC, "run", "--port", "0", "--dna", str(dna), *extra], cwd)

    return start


def node(
    script: str, *args: str, timeout: float = 60.0, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a JavaScript file with the test's npm packages available."""
    env = {**os.environ, "NODE_PATH": str(JS_DIR / "node_modules"), **(env or {})}
    return subprocess.run(
        ["node", script, *args], cwd=cwd or JS_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def fuzz_conductor(blog_dna: Path, tmp_path_factory: pytest.TempPathFactory):
    """One `hc run` shared by a module's many generated cases, with its own event loop."""
    import asyncio

    proc = Process([HC, "run", "--port", "0", "--dna", str(blog_dna)], tmp_path_factory.mktemp("fuzz"))
    loop = asyncio.new_event_loop()
    try:
        yield proc.port, loop
    finally:
        loop.close()
        proc.stop()
        assert proc.proc.returncode == 0, "the conductor did not survive the fuzzing"
