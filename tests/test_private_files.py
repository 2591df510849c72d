"""Files that hold secrets stay their owner's: the saved configuration, keystores, databases and
lock files are 0600 in 0700 directories, also after every rewrite; `hc keygen` never overwrites a
keystore unasked.  And the smaller findings of the same review: a config file that is not UTF-8
is a boot error, and a NATS relay that cannot be reached at start leaves nothing unclosed."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from conductor_setup import agent, blog_copy, dna, free_port, instance, interface, start_holochain, write_config
from conftest import HC, HOLOCHAIN
from holochain.client import Client


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_nats_unreachable_at_start_leaves_no_unclosed_session(tmp_path, spawn):
    blog = blog_copy(tmp_path)
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("alice"),
        dna("blog", blog),
        instance("app", "blog", "alice", None),
        interface("admin", ["app"], admin=True),
        extra=f'[network]\ntype = "nats"\nservers = ["ws://127.0.0.1:{free_port()}"]\n',
    )
    conductor = start_holochain(spawn, config, tmp_path)
    assert conductor.stop() == 0
    out, err = conductor.output()
    assert "Unclosed" not in err, err


def test_config_keystores_databases_and_locks_are_private_and_stay_so(tmp_path, spawn):
    blog = blog_copy(tmp_path)
    data = tmp_path / "data"  # not there yet: the conductor makes it
    config = write_config(
        tmp_path / "conductor-config.toml",
        data,
        agent("alice"),
        dna("blog", blog),
        instance("app", "blog", "alice", data / "app"),
        interface("admin", ["app"], admin=True),
        extra='[passphrase_service]\ntype = "env"\nvariable = "TEST_PASSPHRASE"\n',
    )
    saved = data / "conductor-config.toml"
    data.mkdir(mode=0o755)
    saved.write_text(config.read_text())
    os.chmod(saved, 0o600)
    conductor = start_holochain(spawn, saved, tmp_path, env={"TEST_PASSPHRASE": "correct horse battery staple"})

    async def change() -> None:
        async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
            await admin.request("admin/agent/add", {"id": "bob", "name": "bob"})
            await admin.request("admin/instance/add", {"id": "app2", "dna_id": "blog", "agent_id": "bob"})
            await admin.request("admin/instance/start", {"id": "app2"})
            await admin.request("admin/interface/add_instance", {"interface_id": "admin", "instance_id": "app2"})
            await admin.call_zome("app2", "blog", "create_post", {"content": "private"})

    import asyncio

    asyncio.run(change())
    assert mode(saved) == 0o600  # rewritten by the admin changes, still 0600
    storage = data / "storage"
    assert mode(storage) == 0o700
    keystores = [p for p in storage.iterdir() if p.is_file()]
    assert keystores and all(mode(k) == 0o600 for k in keystores)
    for store in (storage / "app2", data / "app"):
        assert mode(store) == 0o700, store
        files = list(store.iterdir())
        assert {f.name for f in files} >= {"instance.sqlite3", "instance.sqlite3.lock", "instance.sqlite3-wal"}
        assert all(mode(f) == 0o600 for f in files), [(f.name, oct(mode(f))) for f in files]
    assert conductor.stop() == 0


def test_a_rewrite_makes_a_world_readable_config_private(tmp_path, spawn):
    blog = blog_copy(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    saved = write_config(
        data / "conductor-config.toml", data, agent("alice"), dna("blog", blog), interface("admin", [], admin=True)
    )
    os.chmod(saved, 0o644)
    conductor = start_holochain(spawn, saved, tmp_path)

    async def change() -> None:
        async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
            await admin.request("test/agent/add", {"id": "bob", "name": "bob"})

    import asyncio

    asyncio.run(change())
    assert "bob" in saved.read_text()
    assert mode(saved) == 0o600


def keygen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HC, "keygen", "--nullpass", "--quiet", *args], capture_output=True, text=True, timeout=60)


def test_keygen_refuses_to_overwrite_a_keystore_without_force(tmp_path):
    target = tmp_path / "keys" / "agent.keystore"
    first = keygen("-p", str(target))
    assert first.returncode == 0, first.stderr
    address = first.stdout.split()[0]
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    before = target.read_bytes()
    again = keygen("-p", str(target))
    assert again.returncode == 1
    assert f"{target} already exists" in again.stderr and "--force" in again.stderr
    assert target.read_bytes() == before  # the agent identity is still there
    forced = keygen("-p", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.split()[0] != address and mode(target) == 0o600


def test_a_config_file_that_is_not_utf8_is_a_boot_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b'agents = []\npersistence_dir = "\xff\xfe"\n')
    done = subprocess.run([HOLOCHAIN, "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert f"Error while trying to boot from config: config file {path} is not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr
