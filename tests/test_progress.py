"""Progress lines for long work: drawn on a terminal (a pty here), silent otherwise."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HC, read_until, write_project
from holochain.client import Client
from holochain.core import progress
from holochain.core.crypto import AgentKey
from holochain.instance.chain import VERIFIED_MARK_KEY
from holochain.testing import DnaSpec, PlayerConfig

NO_DELAY = {"HC_PROGRESS_DELAY": "0"}


def forget_the_verified_mark(store: Path) -> None:
    """As a store from before verified marks: the next start verifies every record."""
    db = sqlite3.connect(store / "instance.sqlite3")
    with db:
        db.execute("DELETE FROM kv WHERE key = ?", (VERIFIED_MARK_KEY,))
    db.close()


async def test_verifying_a_long_chain_at_start_shows_progress_on_a_terminal_only(hc_run, blog_dna, tmp_path):
    first = hc_run("--persist")
    async with await Client.connect(first.url) as client:
        for start in range(0, 1500, 100):
            await asyncio.gather(
                *(
                    client.call_zome("test-instance", "blog", "create_post", {"content": f"post {i}"})
                    for i in range(start, start + 100)
                )
            )
    assert first.stop() == 0
    forget_the_verified_mark(tmp_path / ".hc")

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [HC, "run", "--persist", "--port", "0", "--dna", str(blog_dna)],
        cwd=tmp_path,
        env={**os.environ, **NO_DELAY},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        shown = read_until(master, "done in")
        line = proc.stdout.readline().decode()
        assert line.startswith("*** Bound interface")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
        os.close(master)
    assert "instance 'test-instance': verifying the chain: " in shown
    assert "1503/1503 records (100%), done in " in shown  # genesis' three records and the posts
    assert "\r" in shown  # redrawn in place

    # the same start with stderr a pipe: not a byte of progress
    forget_the_verified_mark(tmp_path / ".hc")
    piped = hc_run("--persist")
    assert piped.stop() == 0
    assert "verifying" not in piped.output()[1]


def test_packaging_a_large_zome_shows_progress_on_a_terminal_only(tmp_path):
    project = write_project(tmp_path, {"big": "from holochain import hdk\nzome = hdk.Zome()\n"})
    (project / "zomes" / "big" / "code" / "data.txt").write_bytes(b"x" * 3_000_000)
    master, slave = pty.openpty()
    done = subprocess.run(
        [HC, "package"],
        cwd=project,
        env={**os.environ, **NO_DELAY},
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=120,
    )
    os.close(slave)
    try:
        shown = read_until(master, "done in")
    finally:
        os.close(master)
    assert done.returncode == 0
    assert "Packaging zome 'big': 3000044/3000044 bytes (100%), done in" in shown

    piped = subprocess.run(
        [HC, "package"], cwd=project, env={**os.environ, **NO_DELAY}, capture_output=True, text=True, timeout=120
    )
    assert piped.returncode == 0 and piped.stderr == ""


@pytest.fixture
def terminal(monkeypatch):
    """Call it to replace sys.stderr by a pty (what a person at a terminal sees); it returns a
    reader of that terminal.  (Called in the test: pytest sets its own sys.stderr after fixtures.)"""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w")
    monkeypatch.setenv("HC_PROGRESS_DELAY", "0")

    def attach():
        monkeypatch.setattr(sys, "stderr", stream)
        return lambda text: read_until(master, text)

    yield attach
    monkeypatch.undo()
    stream.close()
    os.close(master)


def test_progress_lines_can_be_turned_off(terminal):
    read = terminal()
    progress.set_enabled(False)
    try:
        with progress.Progress("quiet work", 10, unit="things") as p:
            p.advance(10)
    finally:
        progress.set_enabled(True)
    with progress.Progress("loud work", 4, unit="things") as p:
        p.advance(4)
    shown = read("done in")
    assert "quiet work" not in shown
    assert "loud work: 4/4 things (100%), done in" in shown


async def test_a_newcomer_catching_up_shows_progress(scenario, blog_dna, terminal):
    # the round is started by the smaller agent address: make the newcomer that one, so it fetches
    names = sorted(["alpha", "bravo", "charlie"], key=lambda n: AgentKey.for_test_agent(f"{n}::app").address)
    newcomer, old_timer = names[0], names[-1]
    config = PlayerConfig({"app": DnaSpec(blog_dna)})
    read = terminal()
    author = await scenario.player(old_timer, config)
    for i in range(300):
        await author.call("app", "blog", "create_post", {"content": f"old news {i}"})
    await scenario.consistency()
    await scenario.player(newcomer, config)
    shown = read("done in")
    assert ": catching up with " in shown and " ops (100%), done in " in shown
