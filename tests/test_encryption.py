"""Encryption at rest: an instance store with `encrypted = true` is an SQLCipher database under a
key derived from its agent's keystore seed. Nothing of it is readable without the key, a store is
opened only the way it was made, and damage to the ciphertext is found and named. (Restarts and
kill -9 on encrypted stores: test_conductor_restart.py and test_crash_safety.py.)"""

from __future__ import annotations

import pytest

from conductor_setup import (
    agent,
    blog_copy,
    dna,
    instance,
    interface,
    open_db,
    run_holochain,
    start_holochain,
    write_config,
)
from holochain.client import Client
from holochain.conductor.keystore import Keystore, store_key
from holochain.core.crypto import AgentKey
from holochain.storage.base import StorageError, WriteBatch
from holochain.storage.encryption import PLAIN_HEADER
from holochain.storage.sqlite import DB_FILENAME, SqliteStore

SECRET = "a private diary entry"
KEY = store_key(AgentKey.for_test_agent("alice"))


async def durable(store: SqliteStore, ticket: int) -> None:
    fut = store.wait_durable(ticket)
    if fut is not None:
        await fut


def every_byte(directory) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.name.startswith(DB_FILENAME))


async def test_an_encrypted_store_keeps_nothing_readable_and_reads_back_with_its_key(tmp_path):
    store = SqliteStore(tmp_path, key=KEY)
    await durable(store, store.write(WriteBatch(contents={"QmA": f'"{SECRET}"'}, kv={"note": SECRET})))
    assert SECRET.encode() not in every_byte(tmp_path)  # the WAL holds it now: encrypted too
    store.close()  # checkpoints the WAL into the database file
    assert SECRET.encode() not in every_byte(tmp_path)
    assert not (tmp_path / DB_FILENAME).read_bytes().startswith(PLAIN_HEADER)
    again = SqliteStore(tmp_path, key=KEY)
    assert again.kv_get("note") == SECRET and again.get_content("QmA") == f'"{SECRET}"'
    again.close()
    plain = SqliteStore(tmp_path / "plain")  # the control: a plain store has it in clear
    await durable(plain, plain.write(WriteBatch(kv={"note": SECRET})))
    plain.close()
    assert SECRET.encode() in every_byte(tmp_path / "plain")


async def test_a_store_opens_only_the_way_it_was_made(tmp_path):
    store = SqliteStore(tmp_path / "enc", key=KEY, label="instance 'x'")
    await durable(store, store.write(WriteBatch(kv={"k": "v"})))
    store.close()
    with pytest.raises(StorageError, match=r"instance 'x'.* is encrypted .*needs `encrypted = true`"):
        SqliteStore(tmp_path / "enc", label="instance 'x'")
    other = store_key(AgentKey.for_test_agent("mallory"))
    with pytest.raises(
        StorageError, match=r"cannot be opened with the key of its agent \(a store of another agent\?\)"
    ):
        SqliteStore(tmp_path / "enc", key=other, label="instance 'x'")
    plain = SqliteStore(tmp_path / "plain")
    plain.close()
    with pytest.raises(StorageError, match=r"is not encrypted, but its configuration says `encrypted = true`"):
        SqliteStore(tmp_path / "plain", key=KEY)
    reopened = SqliteStore(tmp_path / "enc", key=KEY)  # refusals changed nothing
    assert reopened.kv_get("k") == "v"
    reopened.close()


def test_the_store_key_comes_from_the_agent_seed_only():
    seed_a, seed_b = Keystore.generate(), Keystore.generate()
    assert store_key(seed_a.agent_key) == store_key(AgentKey(seed_a.root_seed))
    assert store_key(seed_a.agent_key) != store_key(seed_b.agent_key)
    assert len(KEY) == 64 and int(KEY, 16) >= 0


@pytest.fixture
def encrypted_conductor(tmp_path, spawn):
    data = tmp_path / "data"
    config = write_config(
        tmp_path / "c.toml",
        data,
        agent("alice"),
        dna("blog", blog_copy(tmp_path)),
        instance("app", "blog", "alice", data / "app", encrypted=True),
        interface("admin", ["app"], admin=True),
    )
    return {"config": config, "data": data, "start": lambda: start_holochain(spawn, config, tmp_path)}


async def commit(port: int, content: str) -> str:
    async with await Client.connect(f"ws://127.0.0.1:{port}") as client:
        return (await client.call_zome("app", "blog", "create_post", {"content": content}))["Ok"]


async def test_a_conductor_writes_encrypted_stores_and_a_flipped_byte_is_found(encrypted_conductor, tmp_path):
    conductor = encrypted_conductor["start"]()
    address = await commit(conductor.ports["admin"], SECRET)
    assert conductor.stop() == 0
    db = encrypted_conductor["data"] / "app" / DB_FILENAME
    assert SECRET.encode() not in every_byte(db.parent)
    with open_db(db, "alice") as conn:  # what the conductor wrote, read with the agent's key
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert any(SECRET in repr(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
    # a bad disk: one flipped byte in the last page, which SQLCipher's per-page HMAC catches
    data = bytearray(db.read_bytes())
    data[-100] ^= 0x01
    db.write_bytes(bytes(data))
    done = run_holochain(encrypted_conductor["config"], tmp_path)
    assert done.returncode == 2
    assert "instance 'app'" in done.stderr and "damaged" in done.stderr, done.stderr
    assert address.startswith("Qm")


async def test_the_config_says_encrypted_and_an_admin_rewrite_keeps_it(encrypted_conductor):
    conductor = encrypted_conductor["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        await admin.request("test/agent/add", {"id": "bob", "name": "bob"})
    saved = (encrypted_conductor["data"] / "conductor-config.toml").read_text()
    assert "encrypted = true" in saved and "bob" in saved
