"""An instance in process: genesis, the call pipeline, commit, get, storage."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import package, write_project
from holochain.conductor.conductor import load_dna_file
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey, encode_call_data_for_signing, verify
from holochain.core.header import ChainHeader
from holochain.instance.instance import Instance, InstanceError
from holochain.storage.base import StorageError
from holochain.storage.memory_store import MemoryStore
from holochain.storage.sqlite import DB_FILENAME, SqliteStore

ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome()

@zome.entry_type("note", description="a note")
@dataclass
class Note:
    text: str

@zome.validate("note")
def check(v):
    if v.entry.text == "forbidden":
        raise hdk.ValidationError("that word is not allowed")

@zome.function(public=True)
def add(text: str) -> str:
    return hdk.commit_entry(Note(text))

@zome.function(public=True)
def add_two(a: str, b: str) -> list:
    return [hdk.commit_entry(Note(a)), hdk.commit_entry(Note(b))]

@zome.function(public=True)
def get(address: str):
    return hdk.get_entry(address)

@zome.function(public=True)
def boom() -> None:
    raise ValueError("zome bug")

@zome.function(public=True)
def commit_unknown() -> str:
    return hdk.commit_entry(hdk.app_entry("nonexistent", {"x": 1}))

@zome.function
def private_fn() -> str:
    return "secret"
"""


@pytest.fixture(scope="module")
def dna(tmp_path_factory):
    return load_dna_file(package(write_project(tmp_path_factory.mktemp("dna"), {"notes": ZOME})))


async def make(dna, store=None, name="alice"):
    instance = Instance("inst", dna, AgentKey.for_test_agent(name), name, store or MemoryStore())
    await instance.initialize()
    instance.start()
    return instance


async def call(instance, fn, args=None, **kw):
    out = instance.call("notes", fn, args if args is not None else {}, **kw)
    if not isinstance(out, str):
        out = await out
    return json.loads(out)


async def test_genesis_writes_dna_agent_and_public_grant(dna):
    instance = await make(dna)
    records = list(instance.chain.records_desc())
    assert [r.entry.variant for r in reversed(records)] == ["Dna", "AgentId", "CapTokenGrant"]
    dna_record, agent_record, grant_record = reversed(records)
    assert dna_record.header.link is None
    assert agent_record.header.link == dna_record.header.address
    assert grant_record.header.link == agent_record.header.address
    assert agent_record.entry.address == instance.agent.address
    grant = grant_record.entry.value["CapTokenGrant"]
    assert grant == {
        "id": "hc_public",
        "assignees": None,
        "functions": {"notes": ["add", "add_two", "get", "boom", "commit_unknown"]},
    }
    assert instance.public_token == grant_record.entry.address


async def test_commit_then_get(dna):
    instance = await make(dna)
    result = await call(instance, "add", {"text": "hello"})
    address = result["Ok"]
    assert len(address) == 46
    got = await call(instance, "get", {"address": address})
    assert got == {"Ok": {"App": ["note", '{"text":"hello"}']}}
    head = instance.chain.head
    assert head.entry_address == address
    assert verify(instance.agent.address, head.provenances[0][1], address)  # signs the entry address
    assert head.link_same_type is None
    await call(instance, "add", {"text": "again"})
    assert instance.chain.head.link_same_type == head.address


async def test_validation_failure_reaches_caller_in_holochain_rust_shape(dna):
    instance = await make(dna)
    length = instance.chain.length
    result = await call(instance, "add", {"text": "forbidden"})
    internal = json.loads(result["Err"]["Internal"])
    assert internal == {
        "kind": {"ValidationFailed": "that word is not allowed"},
        "file": "crates/core/src/wasm_engine/runtime.rs",
        "line": "220",
    }
    assert instance.chain.length == length  # nothing written


async def test_unknown_entry_type(dna):
    instance = await make(dna)
    result = await call(instance, "commit_unknown")
    assert json.loads(result["Err"]["Internal"])["kind"] == {"ValidationFailed": "Unknown app entry type 'nonexistent'"}


async def test_get_of_unknown_address_is_null(dna):
    instance = await make(dna)
    assert await call(instance, "get", {"address": "RANDOM"}) == {"Ok": None}


async def test_argument_errors_are_serialization_errors(dna):
    instance = await make(dna)
    assert await call(instance, "add", {}) == {"SerializationError": "missing field `text`"}
    assert await call(instance, "add", {"text": 5}) == {
        "SerializationError": "invalid type: integer `5`, expected a string"
    }


async def test_unknown_zome_and_function(dna):
    instance = await make(dna)
    with pytest.raises(InstanceError, match="Zome 'nope' not found"):
        instance.call("nope", "add", {})
    with pytest.raises(InstanceError, match="Zome function 'nope' not found in Zome 'notes'"):
        instance.call("notes", "nope", {})


async def test_zome_exception_is_a_clear_error_and_instance_keeps_working(dna):
    instance = await make(dna)
    with pytest.raises(InstanceError, match="Zome function failure: ValueError: zome bug"):
        instance.call("notes", "boom", {})
    assert "Ok" in await call(instance, "add", {"text": "still fine"})


async def test_capabilities(dna):
    instance = await make(dna)
    with pytest.raises(InstanceError, match="Caller does not have Capability"):
        instance.call("notes", "private_fn", {})
    # the agent's own key as token unlocks it (the conductor signs as the agent)
    assert await call(instance, "private_fn", {}, token=instance.agent.address) == {"Ok": "secret"}
    # a provenance signed by someone else does not
    mallory = AgentKey.for_test_agent("mallory")
    forged = [mallory.address, mallory.sign(encode_call_data_for_signing("private_fn", "{}"))]
    with pytest.raises(InstanceError, match="Capability"):
        instance.call("notes", "private_fn", {}, token=instance.agent.address, provenance=forged)
    own = [instance.agent.address, instance.agent.sign(encode_call_data_for_signing("private_fn", "{}"))]
    assert await call(instance, "private_fn", {}, token=instance.agent.address, provenance=own) == {"Ok": "secret"}


async def test_not_active(dna):
    instance = await make(dna)
    instance.stop()
    with pytest.raises(InstanceError, match="not active yet"):
        instance.call("notes", "add", {"text": "x"})


async def test_sqlite_chain_survives_restart_and_is_verified(dna, tmp_path):
    instance = await make(dna, SqliteStore(tmp_path / "store"))
    addresses = [(await call(instance, "add", {"text": f"n{i}"}))["Ok"] for i in range(20)]
    pair = (await call(instance, "add_two", {"a": "x", "b": "y"}))["Ok"]
    head = instance.chain.head.address
    instance.close()

    again = await make(dna, SqliteStore(tmp_path / "store"))
    assert again.chain.length == 3 + 22
    assert again.chain.head.address == head
    for address in addresses + pair:
        assert (await call(again, "get", {"address": address}))["Ok"] is not None
    again.close()


async def test_damaged_store_is_refused_with_the_instance_and_the_damage(dna, tmp_path):
    instance = await make(dna, SqliteStore(tmp_path / "store", label="instance 'inst'"))
    await call(instance, "add", {"text": "to be tampered"})
    instance.close()
    db = sqlite3.connect(tmp_path / "store" / DB_FILENAME)
    seq, header = db.execute("SELECT seq, header FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    tampered = cjson.loads(header)
    tampered["timestamp"] = "2001-01-01T00:00:00+00:00"
    db.execute("UPDATE chain SET header=? WHERE seq=?", (cjson.dumps(tampered), seq))
    db.commit()
    db.close()
    with pytest.raises(StorageError, match=rf"instance 'inst'.*record {seq}.*hash"):
        await make(dna, SqliteStore(tmp_path / "store", label="instance 'inst'"))


async def test_truncated_database_file_is_detected(dna, tmp_path):
    instance = await make(dna, SqliteStore(tmp_path / "store"))
    for i in range(50):
        await call(instance, "add", {"text": "x" * 200 + str(i)})
    instance.close()
    path = tmp_path / "store" / DB_FILENAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError):
        await make(dna, SqliteStore(tmp_path / "store"))


async def test_header_json_round_trips(dna):
    instance = await make(dna)
    head = instance.chain.head
    assert ChainHeader.from_json(cjson.loads(head.content)).address == head.address


async def test_init_failure_stops_instance_start(tmp_path):
    bad = load_dna_file(
        package(
            write_project(
                tmp_path,
                {
                    "z": """
from holochain import hdk
zome = hdk.Zome()
@zome.init
def init():
    raise hdk.InitError("not today")
@zome.function(public=True)
def f() -> int:
    return 1
"""
                },
            )
        )
    )
    instance = Instance("inst", bad, AgentKey.for_test_agent("a"), "a", MemoryStore())
    with pytest.raises(InstanceError, match=r'At least one zome init returned error: \[\("z", "not today"\)\]'):
        await instance.initialize()
