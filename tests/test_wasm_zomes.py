"""WebAssembly zomes in process: the ABI, every host import, callbacks, the sandbox, the cache.

The zomes are WAT text (tests/wat_zomes.py) compiled by wasmtime itself.  The
proxy zome hands each call's argument JSON to one host function unchanged, so
these tests send exactly the JSON an HDK sends and read the
``ZomeApiInternalResult`` envelope it gets back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest

from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.core.dna import Dna
from holochain.core.entry import Entry
from holochain.instance.instance import Instance, InstanceError
from holochain.ribosome import wasm
from holochain.ribosome.python_zome import ZomeCodeError
from holochain.ribosome.wasm import engine
from holochain.storage.memory_store import MemoryStore
from wat_zomes import proxy_zome, wasm_dna


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HC_WASM_CACHE", str(tmp_path / "wasm-cache"))
    yield
    wasm.set_limits(wasm.WasmLimits())


async def make(doc, name="alice", store=None):
    instance = Instance("inst", Dna.from_json(doc), AgentKey.for_test_agent(name), name, store or MemoryStore())
    await instance.initialize()
    instance.start()
    return instance


async def raw(instance, fn, args=None, zome="wat"):
    out = instance.call(zome, fn, args)
    if not isinstance(out, str):
        out = await out
    return out


async def host(instance, fn, args=None):
    """Call a proxy function; the decoded envelope (or the bare code / null)."""
    return json.loads(await raw(instance, fn, args))


def value(envelope):
    assert envelope["ok"] is True, envelope
    assert envelope["error"] == "null"
    return json.loads(envelope["value"])


NOTE = {"App": ["note", '"hello"']}
GET_OPTIONS = {"status_request": "Latest", "entry": True, "headers": True, "timeout": 1000}


async def test_globals_as_the_hdk_reads_them():
    instance = await make(wasm_dna(proxy_zome()))
    g = value(await host(instance, "globals"))
    assert list(g) == [
        "dna_name",
        "dna_address",
        "agent_id_str",
        "agent_address",
        "agent_initial_hash",
        "agent_latest_hash",
        "public_token",
        "cap_request",
        "properties",
    ]
    assert g["dna_name"] == "wat-dna" and g["dna_address"] == instance.dna_address
    assert json.loads(g["agent_id_str"]) == {"nick": "alice", "pub_sign_key": instance.agent.address}
    assert g["agent_address"] == g["agent_latest_hash"] == g["agent_initial_hash"] == instance.agent.address
    assert g["properties"] == '{"answer":42}'  # JSON text, not an object: the HDK panics on an object
    assert g["cap_request"]["cap_token"] == g["public_token"] == instance.public_token


async def test_properties_null_is_the_text_null():
    doc = wasm_dna(proxy_zome())
    doc["properties"] = None
    instance = await make(doc)
    assert value(await host(instance, "globals"))["properties"] == "null"


async def test_input_and_output_pass_through_exactly():
    instance = await make(wasm_dna(proxy_zome()))
    # the zome's output text is the reply, byte for byte (here: the input, re-serialized canonically)
    assert await raw(instance, "echo", {"b": 1, "a": [1.5, "é"], "n": None}) == '{"b":1,"a":[1.5,"é"],"n":null}'
    assert await raw(instance, "echo", None) == "null"  # no input: Success back, the JSON null


async def test_commit_get_and_address_match_the_host_hashing():
    instance = await make(wasm_dna(proxy_zome()))
    address = value(await host(instance, "commit", {"entry": NOTE, "options": {"provenance": []}}))["address"]
    assert address == Entry.from_json(NOTE).address
    assert value(await host(instance, "address", NOTE)) == address
    single = value(await host(instance, "get", {"address": address, "options": GET_OPTIONS}))["result"]["Single"]
    assert single["entry"] == NOTE and single["meta"]["crud_status"] == "live"
    # no provenance given: the agent's own
    assert [p[0] for p in single["headers"][0]["provenances"]] == [instance.agent.address]
    # app entry values are opaque text, not necessarily JSON
    raw_text = {"App": ["note", "course"]}
    assert value(await host(instance, "commit", {"entry": raw_text}))["address"] == Entry.from_json(raw_text).address


async def test_update_remove_and_crud_status():
    instance = await make(wasm_dna(proxy_zome()))
    old = value(await host(instance, "commit", {"entry": NOTE}))["address"]
    new_entry = {"App": ["note", '"hello again"']}
    new = value(await host(instance, "update", {"new_entry": new_entry, "address": old}))
    assert new == Entry.from_json(new_entry).address
    removed = value(await host(instance, "remove", new))
    assert isinstance(removed, str) and removed.startswith("Qm")
    options = dict(GET_OPTIONS, status_request="Initial")
    meta = value(await host(instance, "get", {"address": new, "options": options}))["result"]["Single"]["meta"]
    assert meta["crud_status"] == "deleted"


async def test_links_add_get_count_remove_with_each_hdk_shape():
    instance = await make(wasm_dna(proxy_zome()))
    base = value(await host(instance, "commit", {"entry": NOTE}))["address"]
    target = value(await host(instance, "commit", {"entry": {"App": ["note", '"t"']}}))["address"]
    link = {"base": base, "target": target, "link_type": "noted", "tag": "x"}
    assert value(await host(instance, "link", link)).startswith("Qm")
    opts = {"status_request": "Live", "headers": False, "timeout": 1000}
    new_opts = dict(opts, pagination=None, sort_order=None)  # 0.0.47+ always send both keys
    shapes = [
        ({"link_type": "noted", "tag": None}, new_opts),  # 0.0.47+: the plain type, tag null
        ({"link_type": None, "tag": "x"}, new_opts),
        ({"link_type": "^noted$", "tag": ".*"}, opts),  # 0.0.25-0.0.42: LinkMatch regexes
        ({"link_type": "not.*", "tag": "^x$"}, opts),  # LinkMatch::Regex: the declared types it matches
        ({"link_type": ".*", "tag": "[xy]"}, opts),
    ]
    for shape, options in shapes:
        got = value(await host(instance, "links", {"entry_address": base, **shape, "options": options}))
        assert [l["address"] for l in got["links"]] == [target], shape
        count = value(await host(instance, "links_count", {"entry_address": base, **shape, "options": options}))
        assert count == {"count": 1}, shape
    # a 0.0.47+ tag is a name, never a regex
    plain = {"entry_address": base, "link_type": "noted", "tag": ".*", "options": new_opts}
    assert value(await host(instance, "links", plain)) == {"links": []}
    assert value(await host(instance, "unlink", link)) is None
    got = value(await host(instance, "links", {"entry_address": base, **shapes[0][0], "options": new_opts}))
    assert got["links"] == []


async def test_query_names_and_globs():
    instance = await make(wasm_dna(proxy_zome()))
    a = value(await host(instance, "commit", {"entry": NOTE}))["address"]
    options = {"start": 0, "limit": 0, "headers": False, "entries": False}
    assert value(await host(instance, "query", {"entry_type_names": "note", "options": options})) == {"Addresses": [a]}
    got = value(await host(instance, "query", {"entry_type_names": ["no*"], "options": dict(options, entries=True)}))
    assert got == {"Entries": [[a, NOTE]]}


async def test_argument_errors_are_bare_codes_core_errors_are_envelopes():
    instance = await make(wasm_dna(proxy_zome()))
    # a wrong shape: the bare code, which the HDK reads as Internal("Argument deserialization failed")
    with pytest.raises(InstanceError, match="Argument deserialization failed"):
        await raw(instance, "commit", {"entry": 5})
    # an unknown entry type: the bare code UnknownEntryType
    with pytest.raises(InstanceError, match="Unknown entry type"):
        await raw(instance, "address", {"App": ["nope", "{}"]})
    # a core error (validation refused): the envelope carries the CoreError JSON
    refusing = await make(wasm_dna(proxy_zome(validate="reject")), name="bob")
    envelope = await host(refusing, "commit", {"entry": NOTE})
    assert envelope["ok"] is False and envelope["value"] == "null"
    core_error = json.loads(envelope["error"])
    assert core_error["kind"] == {"ValidationFailed": "rejected by the wat zome"}
    assert set(core_error) == {"kind", "file", "line"}


async def test_validation_callbacks_get_holochain_rusts_arguments():
    instance = await make(wasm_dna(proxy_zome(validate="echo")))
    envelope = await host(instance, "commit", {"entry": NOTE})
    args = json.loads(json.loads(envelope["error"])["kind"]["ValidationFailed"])
    create = args["validation_data"]["Create"]
    assert create["entry"] == NOTE
    assert create["validation_data"]["lifecycle"] == "Chain"
    assert list(create["validation_data"]["package"]) == [
        "chain_header",
        "source_chain_entries",
        "source_chain_headers",
        "custom",
    ]
    assert create["validation_data"]["package"]["chain_header"]["entry_address"] == Entry.from_json(NOTE).address


async def test_link_validation_arguments():
    instance = await make(wasm_dna(proxy_zome(validate_link="echo")))
    base = value(await host(instance, "commit", {"entry": NOTE}))["address"]
    target = value(await host(instance, "commit", {"entry": {"App": ["note", '"t"']}}))["address"]
    link = {"base": base, "target": target, "link_type": "noted", "tag": "x"}
    envelope = await host(instance, "link", link)
    args = json.loads(json.loads(envelope["error"])["kind"]["ValidationFailed"])
    assert list(args) == ["entry_type", "link", "direction", "validation_data"]
    assert args["entry_type"] == "note" and args["direction"] == "To" and args["link"] == link
    link_add = args["validation_data"]["LinkAdd"]
    assert link_add["link"]["link"] == link and link_add["link"]["action_kind"] == "ADD"
    assert link_add["validation_data"]["lifecycle"] == "Chain"


async def test_zome_to_zome_call_between_wasm_and_python(tmp_path):
    from conftest import package, write_project

    python_zome = (
        "from holochain import hdk\n"
        "zome = hdk.Zome()\n"
        "@zome.function(public=True)\n"
        "def hello(name: str) -> str:\n"
        "    return 'hello ' + name\n"
        "@zome.function(public=True)\n"
        "def via_wasm(text: str):\n"
        "    return hdk.call(hdk.THIS_INSTANCE, 'wat', hdk.PUBLIC_TOKEN, 'echo', {'text': text})\n"
    )
    py_dna = json.loads(package(write_project(tmp_path, {"py": python_zome})).read_text())
    doc = wasm_dna(proxy_zome(), extra_zomes={"py": py_dna["zomes"]["py"]})
    instance = await make(doc)
    token = instance.public_token
    args = {
        "instance_handle": "__hdk_this_instance",
        "zome_name": "py",
        "cap_token": token,
        "fn_name": "hello",
        "fn_args": '{"name":"wasm"}',
    }
    assert value(await host(instance, "call", args)) == {"Ok": "hello wasm"}
    out = json.loads(await raw(instance, "via_wasm", {"text": "hi"}, zome="py"))
    assert out == {"Ok": {"text": "hi"}}


async def test_init_and_version_callbacks_run():
    instance = await make(wasm_dna(proxy_zome()))
    assert instance.initialized
    assert instance.ws.ribosome.wasm["wat"].hdk_version is None  # Success: no version text (warned, not refused)


async def test_a_zome_importing_an_unknown_name_fails_to_load_naming_it():
    doc = wasm_dna(proxy_zome(extra_imports=("hc_property",)))
    with pytest.raises(ZomeCodeError, match="imports `env.hc_property`"):
        await make(doc)
    doc = wasm_dna(proxy_zome(extra_imports=("hc_teleport",)))
    with pytest.raises(ZomeCodeError, match="hc_teleport"):
        await make(doc)


BAD_INPUTS = [
    ("trap", "trapped: wasm `unreachable` instruction executed"),
    ("out_of_bounds", "its result points outside the zome's memory"),
    ("oversized", "its result points outside the zome's memory"),
    ("bad_utf8", "its result is not valid UTF-8"),
    ("bad_json", "returned text that is not JSON"),
    ("code_as_argument", "the argument to hc_debug is the error code CallbackFailed instead of an allocation"),
    ("grow", "trapped"),
]


@pytest.mark.parametrize(("fn", "message"), BAD_INPUTS)
async def test_bad_inputs_are_clear_errors_while_others_are_served(fn, message):
    wasm.set_limits(wasm.WasmLimits(memory_mb=8))
    instance = await make(wasm_dna(proxy_zome()))
    other = asyncio.ensure_future(raw(instance, "echo", {"still": "served"}))
    with pytest.raises(InstanceError, match=f"zome 'wat' function '{fn}'.*{message}".replace("(", "\\(")):
        await raw(instance, fn, {})
    assert await other == '{"still":"served"}'
    # the instance is still usable: nothing of the failed call was kept
    assert await raw(instance, "echo", {"again": 1}) == '{"again":1}'


async def test_out_of_fuel():
    wasm.set_limits(wasm.WasmLimits(fuel=5_000_000))
    instance = await make(wasm_dna(proxy_zome()))
    with pytest.raises(InstanceError, match="zome 'wat' function 'spin': ran out of fuel"):
        await raw(instance, "spin", {})
    assert await raw(instance, "echo", {"x": 1}) == '{"x":1}'


async def test_deadline_and_the_loop_keeps_serving_meanwhile():
    wasm.set_limits(wasm.WasmLimits(fuel=10**15, time_ms=1500))
    instance = await make(wasm_dna(proxy_zome()))
    spinning = asyncio.ensure_future(raw(instance, "spin", {}))
    served = 0
    while not spinning.done() and served < 10_000:
        # other calls (and the event loop itself) are answered while the spin computes
        assert await raw(instance, "echo", {"n": served}) == cjson.dumps({"n": served})
        served += 1
    with pytest.raises(InstanceError, match="zome 'wat' function 'spin': ran past its 1500 ms deadline"):
        await spinning
    assert served > 0


async def test_compiled_modules_are_cached_on_disk_by_sha256(tmp_path):
    code = proxy_zome(receive=False)
    import hashlib

    digest = hashlib.sha256(code).hexdigest()
    engine._modules.clear()
    module, got = engine.compile_module(code)
    assert got == digest
    cached = list((tmp_path / "wasm-cache").iterdir())
    assert [p.name.split("-")[0] for p in cached] == [digest]
    engine._modules.clear()
    again, _ = engine.compile_module(code)  # loaded from the artifact
    assert [e.name for e in again.exports] == [e.name for e in module.exports]
    # a damaged artifact is compiled again, not trusted
    cached[0].write_bytes(b"garbage")
    engine._modules.clear()
    third, _ = engine.compile_module(code)
    assert [e.name for e in third.exports] == [e.name for e in module.exports]
    assert os.path.getsize(cached[0]) > 100


async def test_receive_answers_send():
    instance = await make(wasm_dna(proxy_zome()))
    reply = await instance.peers.receive_direct("HcSsender", "wat", "ping")
    assert json.loads(reply) == {"from": "HcSsender", "payload": "ping"}


def test_dna_code_is_base64_wasm():
    doc = wasm_dna(proxy_zome())
    assert base64.b64decode(doc["zomes"]["wat"]["code"]["code"]).startswith(b"\0asm")


async def test_crypto_signatures_meta_and_sleep():
    from holochain.core.crypto import verify

    instance = await make(wasm_dna(proxy_zome()))
    # hc_crypto hands back the signature's text itself (JsonString::from_json), not a JSON string
    envelope = await host(instance, "crypto", {"payload": "text", "method": "Sign"})
    assert envelope["ok"] is True
    signature = envelope["value"]
    assert verify(instance.agent.address, signature, "text")
    args = {"provenance": [instance.agent.address, signature], "payload": "text"}
    assert value(await host(instance, "verify", args)) is True
    assert value(await host(instance, "verify", dict(args, payload="other"))) is False
    one_time = value(await host(instance, "sign_one_time", {"payloads": ["a", "b"]}))
    assert list(one_time) == ["pub_key", "signatures"] and len(one_time["signatures"]) == 2
    assert verify(one_time["pub_key"], one_time["signatures"][1], "b")
    secret = await host(instance, "crypto", {"payload": "secret", "method": "Encrypt"})
    clear = await host(instance, "crypto", {"payload": secret["value"], "method": "Decrypt"})
    assert clear["value"] == "secret"
    assert value(await host(instance, "meta", {"method": "Version"})) == {"Version": "0.0.52-alpha2"}
    with pytest.raises(InstanceError, match="Argument deserialization failed"):
        await raw(instance, "meta", {"method": "Nope"})
    assert await raw(instance, "sleep", 1000) == "null"  # Success: no envelope
    with pytest.raises(InstanceError, match="Argument deserialization failed"):
        await raw(instance, "sleep", -1)


async def test_keystore_functions():
    instance = await make(wasm_dna(proxy_zome()))
    assert "root_seed" in value(await host(instance, "keystore_list", {}))["ids"]
    assert value(await host(instance, "keystore_new_random", {"dst_id": "s1", "size": 32})) is None
    assert (
        value(
            await host(
                instance, "keystore_derive_seed", {"src_id": "s1", "dst_id": "s2", "context": "SOMECTXT", "index": 1}
            )
        )
        is None
    )
    public = value(await host(instance, "keystore_derive_key", {"src_id": "s2", "dst_id": "k", "key_type": "signing"}))
    assert public.startswith("HcS")
    assert value(await host(instance, "keystore_get_public_key", {"src_id": "k"})) == public
    signed = await host(instance, "keystore_sign", {"src_id": "k", "payload": "p"})
    from holochain.core.crypto import verify

    assert verify(public, signed["value"], "p")  # the text itself, as holochain-rust hands it back
    # a failing keystore call is the bare code CallbackFailed
    with pytest.raises(InstanceError, match="Callback failed"):
        await raw(instance, "keystore_sign", {"src_id": "missing", "payload": "p"})


async def test_signals_and_capabilities():
    instance = await make(wasm_dna(proxy_zome()))
    signals = []
    instance.signal_sink = signals.append
    assert await raw(instance, "signal", {"name": "ping", "arguments": '{"n":1}'}) == "null"
    assert signals == [{"signal_type": "User", "name": "ping", "arguments": '{"n":1}'}]
    grant = {"id": "g", "cap_type": "transferable", "assignees": None, "functions": {"wat": ["echo"]}}
    token = value(await host(instance, "grant", grant))
    assert token.startswith("Qm")
    claim = value(await host(instance, "claim", {"id": "c", "grantor": instance.agent.address, "token": token}))
    assert claim.startswith("Qm")


async def test_send_reaches_the_other_agents_receive(scenario, tmp_path):
    from holochain.testing import DnaSpec, PlayerConfig

    path = tmp_path / "wat.dna.json"
    path.write_text(json.dumps(wasm_dna(proxy_zome())), encoding="utf-8")
    config = PlayerConfig({"app": DnaSpec(path)})
    players = await scenario.players({"alice": config, "bob": config})
    bob_address = players["bob"].instance("app").agent.address
    alice_address = players["alice"].instance("app").agent.address
    reply = await players["alice"].call(
        "app", "wat", "send", {"to_agent": bob_address, "payload": "hi", "options": 5000}
    )
    assert reply["ok"] is True
    # the WAT receive answers its own input: ReceiveParams {from, payload}
    assert json.loads(reply["value"]) == {"from": alice_address, "payload": "hi"}


async def test_bridges_between_wasm_and_python_instances(scenario, tmp_path):
    from conftest import package, write_project
    from holochain.testing import DnaSpec, PlayerConfig

    python_zome = (
        "from holochain import hdk\n"
        "zome = hdk.Zome()\n"
        "@zome.function(public=True)\n"
        "def hello(name: str) -> str:\n"
        "    return 'hello ' + name\n"
        "@zome.function(public=True)\n"
        "def ask_wasm(text: str):\n"
        "    return hdk.call('to-wasm', 'wat', '', 'echo', {'text': text})\n"
    )
    project = write_project(tmp_path, {"py": python_zome}, name="pydna")
    bridge = {"presence": "optional", "handle": "to-wasm", "reference": {"traits": {}}}
    (project / "zomes" / "py" / "zome.json").write_text(json.dumps({"description": "", "bridges": [bridge]}))
    py_dna = package(project)
    doc = wasm_dna(proxy_zome())
    doc["zomes"]["wat"]["bridges"] = [{"presence": "optional", "handle": "to-py", "reference": {"traits": {}}}]
    wat_dna = tmp_path / "wat.dna.json"
    wat_dna.write_text(json.dumps(doc), encoding="utf-8")
    config = PlayerConfig(
        {"wasm": DnaSpec(wat_dna), "python": DnaSpec(py_dna), "python2": DnaSpec(py_dna)},
        bridges=[("wasm", "python", "to-py"), ("python2", "wasm", "to-wasm")],
    )
    player = await scenario.player("alice", config)
    args = {
        "instance_handle": "to-py",
        "zome_name": "py",
        "cap_token": "",
        "fn_name": "hello",
        "fn_args": '{"name":"wasm"}',
    }
    assert value(await player.call("wasm", "wat", "call", args)) == {"Ok": "hello wasm"}
    assert await player.call("python2", "py", "ask_wasm", {"text": "hi"}) == {"Ok": {"text": "hi"}}


async def test_a_validation_callback_that_runs_long_moves_off_the_loop_and_is_stopped():
    wasm.set_limits(wasm.WasmLimits(fuel=10**15, time_ms=1000))
    instance = await make(wasm_dna(proxy_zome(validate="spin")))
    committing = asyncio.ensure_future(host(instance, "commit", {"entry": NOTE}))
    served = 0
    while not committing.done() and served < 10_000:
        assert await raw(instance, "echo", {"n": served}) == cjson.dumps({"n": served})
        served += 1
    # the whole call is bounded by its deadline, the validation it waits for included
    with pytest.raises(InstanceError, match="zome 'wat' function 'commit': ran past its 1000 ms deadline"):
        await committing
    assert served > 0
    assert instance.chain.length == 3  # nothing was committed


async def test_an_untidy_package_loads_as_holochain_rust_loaded_it():
    doc = wasm_dna(proxy_zome())
    zome = doc["zomes"]["wat"]
    for key in ("description", "config", "bridges"):
        del zome[key]
    zome["unknown_zome_key"] = 1
    doc["agent.keystore"] = "left in the folder by hc package"
    doc["notes"] = {"pdf": "…"}
    for key in ("description", "version", "dna_spec_version", "properties", "uuid"):
        del doc[key]
    instance = await make(doc)
    assert instance.dna.uuid == "00000000-0000-0000-0000-000000000000" and instance.dna.properties == {}
    assert value(await host(instance, "globals"))["properties"] == "{}"


async def test_a_sleeping_zome_does_not_hold_the_loop():
    instance = await make(wasm_dna(proxy_zome()))
    sleeping = asyncio.ensure_future(raw(instance, "sleep", 300_000_000))  # 0.3 s in nanoseconds
    served = 0
    while not sleeping.done() and served < 10_000:
        assert await raw(instance, "echo", {"n": served}) == cjson.dumps({"n": served})
        served += 1
    assert await sleeping == "null" and served > 0
