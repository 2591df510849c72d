"""The JSON-RPC 2.0 dispatcher: envelope rules, transport-free."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from holochain.interfaces.jsonrpc import Dispatcher, JsonRpcError


async def slow(params):
    await asyncio.sleep(0)
    return {"slow": params}


def failing(params):
    raise JsonRpcError(-32602, "`x` param not provided")


def buggy(params):
    raise KeyError("oops")


CALLS: list = []


def record(params):
    CALLS.append(params)
    return "recorded"


DISPATCHER = Dispatcher(
    {
        "echo": lambda params: params,
        "slow": slow,
        "failing": failing,
        "buggy": buggy,
        "record": record,
    }
)


async def answer(message: str | bytes):
    out = DISPATCHER.handle(message)
    if out is not None and not isinstance(out, bytes):
        out = await out
    return None if out is None else orjson.loads(out)


async def test_request_and_reply_echo_the_id_of_any_allowed_type():
    for id_ in (1, "abc", None, 0, 2**63, 1.5, -3):
        reply = await answer(orjson.dumps({"jsonrpc": "2.0", "method": "echo", "params": {"a": 1}, "id": id_}))
        assert reply == {"jsonrpc": "2.0", "result": {"a": 1}, "id": id_}


async def test_parse_error():
    assert await answer(b"{not json") == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
        "id": None,
    }


async def test_missing_version_is_reported_without_jsonrpc_member():
    reply = await answer('{"method":"echo","id":7}')
    assert reply == {"error": {"code": -32600, "message": "Unsupported JSON-RPC protocol version"}, "id": 7}


@pytest.mark.parametrize(
    "message",
    [
        '{"jsonrpc":"1.0","method":"echo","id":1}',
        '{"jsonrpc":"2.0","method":5,"id":1}',
        '{"jsonrpc":"2.0","method":"echo","params":"scalar","id":1}',
        '{"jsonrpc":"2.0","method":"echo","id":1,"extra":true}',
        '{"jsonrpc":"2.0","method":"echo","id":{"an":"object"}}',
        '"just a string"',
        "[]",
    ],
)
async def test_invalid_requests(message):
    reply = await answer(message)
    assert reply["error"]["code"] == -32600
    assert reply["error"]["message"].startswith("Invalid request")


async def test_unknown_method():
    reply = await answer('{"jsonrpc":"2.0","method":"admin/dna/list","id":3}')
    assert reply == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 3}


async def test_method_errors_and_bugs_are_answered():
    assert (await answer('{"jsonrpc":"2.0","method":"failing","id":1}'))["error"] == {
        "code": -32602,
        "message": "`x` param not provided",
    }
    reply = await answer('{"jsonrpc":"2.0","method":"buggy","id":2}')
    assert reply["error"]["code"] == -32603 and "KeyError" in reply["error"]["message"]


async def test_notifications_run_but_get_no_reply():
    CALLS.clear()
    assert await answer('{"jsonrpc":"2.0","method":"record","params":[1]}') is None
    assert CALLS == [[1]]
    assert await answer('{"jsonrpc":"2.0","method":"no-such-method"}') is None


async def test_batches_answer_each_request_in_order():
    batch = orjson.dumps(
        [
            {"jsonrpc": "2.0", "method": "slow", "params": [1], "id": "a"},
            {"jsonrpc": "2.0", "method": "echo", "params": [2], "id": "b"},
            {"jsonrpc": "2.0", "method": "record", "params": [3]},
            {"jsonrpc": "2.0", "method": "nope", "id": "c"},
            5,
        ]
    )
    reply = await answer(batch)
    assert [r.get("id") for r in reply] == ["a", "b", "c", None]
    assert reply[0]["result"] == {"slow": [1]}
    assert reply[2]["error"]["code"] == -32601
    assert reply[3]["error"]["code"] == -32600


async def test_batch_of_notifications_gets_no_reply():
    assert await answer('[{"jsonrpc":"2.0","method":"record","params":[]}]') is None


async def test_deep_nesting_is_a_parse_error_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    assert (await answer(deep))["error"]["code"] == -32700


async def test_quick_methods_answer_synchronously():
    out = DISPATCHER.handle('{"jsonrpc":"2.0","method":"echo","params":[],"id":1}')
    assert isinstance(out, bytes)
