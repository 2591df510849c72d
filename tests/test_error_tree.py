"""Errors of every layer reach users in one shape per surface (the tree of core/errors.py).

Both conductors (`holochain -c`, `hc run`) report every boot error the same way: one line
``Error while trying to boot from config: <what and why>`` on stderr, exit status 2, no
traceback.  The admin API answers the same errors as ``-32603`` with their message, and the
conductor keeps serving.  The cases come from different layers of the tree (a zome engine, a
network table, a store), real subprocesses each."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from conductor_setup import (
    DONE,
    agent,
    blog_copy,
    dna,
    dna_hash,
    instance,
    interface,
    run_holochain,
    start_holochain,
    write_config,
)
from conftest import HC
from holochain.client import Client, RpcError

BOOT_ERROR = "Error while trying to boot from config: "


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    return blog_copy(tmp_path_factory.mktemp("dna"))


@pytest.fixture(scope="module")
def wasm_dna(tmp_path_factory, blog):
    """The blog DNA with its zome's code replaced by an empty WebAssembly module (no `memory`: it cannot run)."""
    document = json.loads(blog.read_text())
    for zome in document["zomes"].values():
        zome["code"]["code"] = base64.b64encode(b"\x00asm\x01\x00\x00\x00").decode()
    path = tmp_path_factory.mktemp("wasm") / "wasm.dna.json"
    path.write_text(json.dumps(document))
    return path


def boot_error(done: subprocess.CompletedProcess) -> str:
    """The boot-error message, after checking the exit status and that nothing else went wrong."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert DONE not in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith(BOOT_ERROR)]
    assert len(lines) == 1, done.stderr
    return lines[0][len(BOOT_ERROR) :]


def test_holochain_reports_a_webassembly_dna_as_a_boot_error(tmp_path, wasm_dna):
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", wasm_dna, dna_hash(wasm_dna)),
        instance("i", "d", "a", None),
    )
    message = boot_error(run_holochain(config, tmp_path))
    assert message.startswith('Error while trying to create instance "i": ')
    assert "zome 'blog': its WebAssembly module exports no `memory`" in message


def test_hc_run_reports_a_webassembly_dna_as_a_boot_error(tmp_path, wasm_dna):
    done = subprocess.run(
        [HC, "run", "--port", "0", "--dna", str(wasm_dna)], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    message = boot_error(done)
    assert message.startswith('Error while trying to create instance "test-instance": ')
    assert "zome 'blog': its WebAssembly module exports no `memory`" in message


def test_holochain_reports_a_bad_network_table_as_a_boot_error(tmp_path, blog):
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", blog),
        instance("i", "d", "a", None),
        extra='[network]\ntype = "carrier-pigeon"\n',
    )
    message = boot_error(run_holochain(config, tmp_path))
    assert "carrier-pigeon" in message and "is not supported" in message


def test_holochain_reports_an_unopenable_store_as_a_boot_error(tmp_path, blog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    config = write_config(
        tmp_path / "c.toml", tmp_path / "data", agent("a"), dna("d", blog), instance("i", "d", "a", blocker / "store")
    )
    message = boot_error(run_holochain(config, tmp_path))
    assert message.startswith('Error while trying to create instance "i": ')


def test_hc_run_reports_a_dna_that_is_not_json_as_a_boot_error(tmp_path):
    broken = Path(tmp_path / "broken.dna.json")
    broken.write_text("{ not json")
    done = subprocess.run(
        [HC, "run", "--port", "0", "--dna", str(broken)], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert boot_error(done).startswith(f'Could not load DNA file "{broken}"')


async def test_the_admin_api_answers_a_webassembly_dna_with_the_conductors_message(tmp_path, blog, wasm_dna, spawn):
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", blog),
        instance("i", "d", "a", None),
        interface("admin", ["i"], admin=True),
    )
    conductor = start_holochain(spawn, config, tmp_path)
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        installed = await admin.request("admin/dna/install_from_file", {"id": "w", "path": str(wasm_dna)})
        assert installed["success"] is True
        with pytest.raises(RpcError) as refused:
            await admin.request("admin/instance/add", {"id": "wi", "dna_id": "w", "agent_id": "a"})
        assert refused.value.code == -32603
        assert refused.value.message.startswith('Error while trying to create instance "wi": ')
        assert "WebAssembly" in refused.value.message
        assert [i["id"] for i in await admin.request("admin/instance/list", {})] == ["i"]
        assert await admin.info_instances() == [{"id": "i", "dna": "d", "agent": "a"}]
