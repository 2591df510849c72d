"""`hc run --watch`: zome code reloaded on an edit, the chain kept, a broken edit survived."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import HC, write_project
from holochain.cli.watch import describe_change
from holochain.client import Client, RpcError
from holochain.core.dna import Dna
from holochain.ribosome.packager import package_project

HELLO = """

@zome.function(public=True)
def hello() -> str:
    return "{greeting}"
"""


class Lines:
    """Every line a stream prints, collected by a thread, waited for by content."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text: str, after: int = 0, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                assert left > 0, f"no line with {text!r} in {self.lines}"
                self._changed.wait(left)


def new_project(tmp_path: Path) -> Path:
    assert subprocess.run([HC, "init", "app"], cwd=tmp_path, capture_output=True).returncode == 0
    project = tmp_path / "app"
    assert subprocess.run([HC, "generate", "zomes/notes"], cwd=project, capture_output=True).returncode == 0
    return project


async def test_watch_reloads_an_edit_keeps_the_chain_and_survives_a_broken_edit(tmp_path, spawn):
    project = new_project(tmp_path)
    code = project / "zomes" / "notes" / "code" / "__init__.py"
    source = code.read_text()
    conductor = spawn([HC, "run", "--persist", "--watch", "--port", "0"], project)
    out, err = Lines(conductor.proc.stdout), Lines(conductor.proc.stderr)
    out.wait_for("Watching")
    first_hash = package_project(project)[1].address
    async with await Client.connect(conductor.url) as client:
        created = await client.call_zome("test-instance", "notes", "create_my_entry", {"entry": {"content": "kept"}})
        assert "Ok" in created, created
        with pytest.raises(RpcError, match="Zome function 'hello' not found in Zome 'notes'"):
            await client.call_zome("test-instance", "notes", "hello", {})

        code.write_text(source + HELLO.format(greeting="hi"))
        line = out.wait_for("Reloaded zome code")
        assert line == (
            "Reloaded zome code (zomes/notes/code/__init__.py changed): zome 'notes' updated (functions added: hello)"
        )
        new_hash = Dna.from_text((project / "dist" / "app.dna.json").read_bytes()).address
        assert new_hash != first_hash
        assert out.wait_for("DNA hash is now").endswith(
            f"{new_hash}; the instance keeps its chain and runs the new code as {first_hash}"
        )
        assert await client.call_zome("test-instance", "notes", "hello", {}) == {"Ok": "hi"}
        got = await client.call_zome("test-instance", "notes", "get_my_entry", {"address": created["Ok"]})
        assert got == {"Ok": {"App": ["my_entry", '{"content":"kept"}']}}

        # a broken edit: said why, and the code that ran keeps running
        code.write_text(source + HELLO.format(greeting="hi") + "\ndef broken(:\n")
        line = err.wait_for("was not reloaded")
        assert "the previous code keeps running: zome 'notes' failed to import: SyntaxError" in line
        assert await client.call_zome("test-instance", "notes", "hello", {}) == {"Ok": "hi"}
        assert Dna.from_text((project / "dist" / "app.dna.json").read_bytes()).address == new_hash

        # fixed again: reloaded, and the chain goes on where it was
        code.write_text(source + HELLO.format(greeting="hi again"))
        out.wait_for("Reloaded zome code", after=len(out.lines))
        assert await client.call_zome("test-instance", "notes", "hello", {}) == {"Ok": "hi again"}
        later = await client.call_zome("test-instance", "notes", "create_my_entry", {"entry": {"content": "later"}})
        assert "Ok" in later
    assert conductor.stop() == 0

    # a plain restart runs the new code on the same chain, its new public function included
    again = spawn([HC, "run", "--persist", "--port", "0"], project)
    async with await Client.connect(again.url) as client:
        for address, content in ((created["Ok"], "kept"), (later["Ok"], "later")):
            got = await client.call_zome("test-instance", "notes", "get_my_entry", {"address": address})
            assert got == {"Ok": {"App": ["my_entry", f'{{"content":"{content}"}}']}}
        assert await client.call_zome("test-instance", "notes", "hello", {}) == {"Ok": "hi again"}


def test_what_changed_is_said_in_words(tmp_path):
    zome = "from holochain import hdk\nzome = hdk.Zome()\n\n@zome.function(public=True)\ndef {name}() -> int:\n    return 1\n"
    project = write_project(tmp_path, {"a": zome.format(name="one"), "b": zome.format(name="two")})
    before = package_project(project)[1]
    (project / "zomes" / "a" / "code" / "__init__.py").write_text(zome.format(name="three"))
    write_project(tmp_path, {"c": zome.format(name="four")})
    shutil.rmtree(project / "zomes" / "b")
    after = package_project(project)[1]
    assert describe_change(before, after) == (
        "zome 'c' added; zome 'b' removed; zome 'a' updated (functions added: three; functions removed: one)"
    )
    assert describe_change(after, after) == "no zome changed"
    write_project(tmp_path, {}, properties={"greeting": "hello"})
    assert describe_change(after, package_project(project)[1]) == "DNA properties changed"
