"""The api_test zome (Rust, hdk_lite: serde as the real HDK) against the host: each answer as the HDK reads it.

Built by ``make wasm`` (``make test`` runs it first); built here if it has not been.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from holochain.conductor.conductor import load_dna_file
from holochain.core.crypto import AgentKey, verify
from holochain.core.entry import Entry
from holochain.instance.instance import Instance, InstanceError
from holochain.ribosome import wasm
from holochain.storage.memory_store import MemoryStore

REPO = Path(__file__).resolve().parents[1]
API_TEST = REPO / "wasm" / "build" / "api_test.dna.json"


@pytest.fixture(scope="module")
def api_dna():
    if not API_TEST.is_file():
        subprocess.run(["make", "wasm"], cwd=REPO, check=True, timeout=900)
    return load_dna_file(API_TEST)


@pytest.fixture
async def api(api_dna, tmp_path, monkeypatch):
    monkeypatch.setenv("HC_WASM_CACHE", str(tmp_path / "cache"))
    wasm.set_limits(wasm.WasmLimits(fuel=10**8, memory_mb=32))
    instance = Instance("inst", api_dna, AgentKey.for_test_agent("alice"), "alice", MemoryStore())
    await instance.initialize()
    instance.start()
    yield instance
    instance.close()
    wasm.set_limits(wasm.WasmLimits())


async def call(instance, fn, args=None):
    out = instance.call("api", fn, args if args is not None else {})
    if not isinstance(out, str):
        out = await out
    return json.loads(out)


async def test_entries_addresses_and_history(api):
    a = (await call(api, "commit_note", {"content": "hi"}))["Ok"]
    assert a == Entry.app("note", '{"content":"hi"}').address
    assert (await call(api, "note_address", {"content": "hi"}))["Ok"] == a  # computed by the host
    entry = {"App": ["note", '{"content":"x"}']}
    inside, host = (await call(api, "addresses", {"entry": entry}))["Ok"]
    assert inside == host == Entry.from_json(entry).address  # computed in the zome = by the host
    assert await call(api, "get", {"address": a}) == {"Ok": {"App": ["note", '{"content":"hi"}']}}
    new = (await call(api, "update_note", {"address": a, "content": "hi2"}))["Ok"]
    history = (await call(api, "get_history", {"address": a}))["Ok"]["items"]
    assert [i["meta"]["crud_status"] for i in history] == ["modified", "live"] and history[1]["meta"]["address"] == new
    assert (await call(api, "remove_note", {"address": new}))["Ok"].startswith("Qm")
    assert await call(api, "get", {"address": new}) == {"Ok": None}
    assert (await call(api, "query", {"entry_type_names": "note", "start": 0, "limit": 0}))["Ok"][-1] == a
    # header addresses hashed in the zome agree with the chain's
    headers = (await call(api, "header_addresses"))["Ok"]
    assert len(headers) == api.chain.length


async def test_globals_crypto_meta_and_calls(api):
    g = (await call(api, "globals"))["Ok"]
    assert g["agent_address"] == api.agent.address and g["dna_address"] == api.dna_address
    signature = (await call(api, "sign", {"payload": "p"}))["Ok"]
    assert verify(api.agent.address, signature, "p")
    assert (await call(api, "meta"))["Ok"][0] == "0.0.52-alpha2"
    nested = {
        "instance_handle": "__hdk_this_instance",
        "zome": "api",
        "function": "note_address",
        "args": {"content": "hi"},
        "cap_token": None,
    }
    assert await call(api, "call", nested) == {"Ok": {"Ok": Entry.app("note", '{"content":"hi"}').address}}
    assert (await call(api, "property", {"name": "x"})) == {
        "Err": {"Internal": "field does not exist in DNA properties"}
    }
    with pytest.raises(InstanceError, match="Caller does not have Capability"):
        await call(api, "whoami")


async def test_validation_failure_and_argument_errors(api):
    refused = await call(api, "commit_note", {"content": ""})
    assert json.loads(refused["Err"]["Internal"])["kind"] == {"ValidationFailed": "a note cannot be empty"}
    assert await call(api, "commit_note", {"wrong": 1}) == {
        "SerializationError": "missing field `content` at line 1 column 11"
    }


async def test_a_panic_reaches_the_log_and_the_callers_error(api, caplog):
    with caplog.at_level(logging.DEBUG, logger="holochain.zome"):
        with pytest.raises(InstanceError, match=r"zome 'api' function 'panic': trapped: .*the zome said: panic"):
            await call(api, "panic", {"message": "oh no"})
    assert any("panic" in r.getMessage() for r in caplog.records if r.name == "holochain.zome")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalid_utf8", "its result is not valid UTF-8"),
        ("not_json", "returned text that is not JSON"),
        ("out_of_bounds", "its result points outside the zome's memory"),
        ("past_memory", "its result points outside the zome's memory"),
        ("length_overflow", "its result points outside the zome's memory"),
        ("huge_length", "its result points outside the zome's memory"),
        ("failure", "Argument deserialization failed"),
    ],
)
async def test_malformed_answers(api, kind, message):
    with pytest.raises(InstanceError, match=message):
        await call(api, "bad_output", {"kind": kind})
    assert (await call(api, "note_address", {"content": "still"}))["Ok"].startswith("Qm")


async def test_fuel_and_memory_caps(api):
    with pytest.raises(InstanceError, match="zome 'api' function 'spin': ran out of fuel"):
        await call(api, "spin", {"iterations": None})
    with pytest.raises(InstanceError, match="zome 'api' function 'allocate': trapped"):
        await call(api, "allocate", {"mebibytes": 100})
    assert (await call(api, "big_output", {"size": 1000}))["Ok"] == "x" * 1000


async def test_older_hdks_genesis_git_hash_and_a_version_mismatch(tmp_path, monkeypatch, caplog):
    old = REPO / "wasm" / "build" / "old_hdks.dna.json"
    if not old.is_file():
        subprocess.run(["make", "wasm"], cwd=REPO, check=True, timeout=900)
    monkeypatch.setenv("HC_WASM_CACHE", str(tmp_path / "cache"))
    with caplog.at_level(logging.WARNING, logger="holochain.ribosome.wasm.callbacks"):
        instance = Instance("inst", load_dna_file(old), AgentKey.for_test_agent("alice"), "alice", MemoryStore())
    # a mismatched __hdk_hdk_version only warns
    assert any("zome 'mismatch' was built with HDK 0.0.42-alpha5" in r.getMessage() for r in caplog.records)
    await instance.initialize()
    instance.start()
    # `genesis` (HDK <= 0.0.24) and `init` each ran once, as their zome's init, and committed a marker
    for zome in ("genesis", "git_hash", "mismatch"):
        out = instance.call(zome, "markers", {})
        markers = json.loads(out if isinstance(out, str) else await out)["Ok"]
        assert len(markers) == 3
    instance.close()
