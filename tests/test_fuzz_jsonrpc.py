"""Fuzzing the JSON-RPC path with hypothesis: random JSON, wrong types, deep nesting,
huge numbers and strings, batches.  Every message gets a well-formed JSON-RPC answer
(or none, for notifications), never an exception, and the instance keeps working.

HC_FUZZ_EXAMPLES raises the case count for a longer run.
"""

from __future__ import annotations

import asyncio
import inspect
import os

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import package, write_project
from holochain.conductor.conductor import Conductor, load_dna_file
from holochain.conductor.config import (
    AgentConfig,
    Configuration,
    DnaConfig,
    InstanceConfig,
    InstanceRef,
    InterfaceConfig,
    StorageConfig,
)
from holochain.core import json as cjson
from holochain.interfaces.jsonrpc import Dispatcher
from holochain.interfaces.methods import interface_methods

EXAMPLES = int(os.environ.get("HC_FUZZ_EXAMPLES", "300"))

ZOME = """
from dataclasses import dataclass
from holochain import hdk
zome = hdk.Zome()

@zome.entry_type("thing", description="")
@dataclass
class Thing:
    text: str
    n: int

@zome.function(public=True)
def put(text: str, n: int) -> str:
    return hdk.commit_entry(Thing(text, n))

@zome.function(public=True)
def get(address: str):
    return hdk.get_entry(address)

@zome.function(public=True)
def echo(value) -> object:
    return value
"""

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50),
)
json_any = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
ids = st.one_of(
    st.none(),
    st.integers(-(2**65), 2**65),
    st.text(max_size=10),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
methods = st.one_of(st.sampled_from(["call", "info/instances", "admin/dna/list", "", "call/"]), st.text(max_size=15))
call_params = st.fixed_dictionaries(
    {},
    optional={
        "instance_id": st.one_of(st.just("app"), json_any),
        "zome": st.one_of(st.just("z"), json_any),
        "function": st.one_of(st.sampled_from(["put", "get", "echo", "nope"]), json_any),
        "args": st.one_of(
            json_any,
            st.fixed_dictionaries({"text": json_any, "n": json_any}),
            st.fixed_dictionaries({"address": json_any}),
            st.fixed_dictionaries({"value": json_any}),
        ),
        "token": json_any,
        "provenance": json_any,
    },
)
requests = st.fixed_dictionaries(
    {"method": methods},
    optional={
        "jsonrpc": st.one_of(st.just("2.0"), json_any),
        "id": ids,
        "params": st.one_of(call_params, json_any),
        "extra": json_any,
    },
)
messages = st.one_of(
    requests.map(cjson.dumps_bytes),
    st.lists(requests, max_size=5).map(cjson.dumps_bytes),
    json_any.map(cjson.dumps_bytes),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
)


@pytest.fixture(scope="module")
def dispatcher(tmp_path_factory):
    dna_path = package(write_project(tmp_path_factory.mktemp("fuzz"), {"z": ZOME}))
    dna = load_dna_file(dna_path)
    config = Configuration(
        agents=[AgentConfig("a", "fuzzer", "x", "x", test_agent=True)],
        dnas=[DnaConfig("d", str(dna_path), dna.address)],
        instances=[InstanceConfig("app", "d", "a", StorageConfig("memory"))],
        interfaces=[InterfaceConfig("i", {"type": "websocket", "port": 0}, instances=[InstanceRef("app")])],
    )
    loop = asyncio.new_event_loop()
    conductor = Conductor(config, save_config=False)
    loop.run_until_complete(conductor.boot())
    yield Dispatcher(interface_methods(conductor, config.interfaces[0])), loop, conductor
    loop.run_until_complete(conductor.shutdown())
    loop.close()


async def _answer(rpc, message):
    """As a server does: handle the message on the running loop, await what waits."""
    out = rpc.handle(message)
    if inspect.isawaitable(out):
        out = await out
    return out


def _check_reply(reply):
    assert isinstance(reply, dict)
    assert ("result" in reply) != ("error" in reply)
    assert "id" in reply
    if "error" in reply:
        assert isinstance(reply["error"]["code"], int) and isinstance(reply["error"]["message"], str)
        assert reply["error"]["code"] != -32603, reply  # an internal error means a bug
        assert "Zome function failure" not in reply["error"]["message"], reply  # so does a zome crash


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(message=messages)
def test_every_message_gets_a_well_formed_answer(dispatcher, message):
    rpc, loop, conductor = dispatcher
    out = loop.run_until_complete(_answer(rpc, message))
    if out is None:
        return
    reply = orjson.loads(out)
    if isinstance(reply, list):
        assert reply
        for r in reply:
            _check_reply(r)
    else:
        _check_reply(reply)


def test_instance_still_works_after_the_fuzzing(dispatcher):
    rpc, loop, conductor = dispatcher
    out = loop.run_until_complete(
        _answer(
            rpc,
            orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "call",
                    "params": {"instance_id": "app", "zome": "z", "function": "put", "args": {"text": "after", "n": 1}},
                }
            ),
        )
    )
    assert orjson.loads(orjson.loads(out)["result"])["Ok"].startswith("Qm")
