"""`hc run` as a real subprocess, driven over WebSocket and HTTP."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import sqlite3
import subprocess

import aiohttp
import pytest

from conftest import HC, REPO, package, write_project
from holochain.client import Client, RpcError
from holochain.core import json as cjson
from holochain.core.header import ChainHeader

CREATE = {
    "instance_id": "test-instance",
    "zome": "blog",
    "function": "create_post",
    "args": {"content": "sample content"},
}


async def test_info_create_and_get_over_websocket(hc_run):
    conductor = hc_run()
    async with await Client.connect(conductor.url) as client:
        assert await client.info_instances() == [{"id": "test-instance", "dna": "hc-run-dna", "agent": "hc-run-agent"}]
        raw = await client.request("call", CREATE)
        assert isinstance(raw, str)
        address = json.loads(raw)["Ok"]
        assert address == "QmPp6F3euosoLRXAcfjTRLfe9gizHd9QRVKKiUNX696sDC"
        got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": address})
        assert got == {"Ok": {"App": ["post", '{"content":"sample content","date_created":"now"}']}}


async def test_validation_failure_shape_over_the_wire(hc_run):
    conductor = hc_run()
    async with await Client.connect(conductor.url) as client:
        result = await client.call_zome("test-instance", "blog", "create_post", {"content": "x" * 300})
        assert json.loads(result["Err"]["Internal"])["kind"] == {"ValidationFailed": "Content too long"}


async def test_conductor_errors_use_holochain_rust_messages(hc_run):
    conductor = hc_run()
    async with await Client.connect(conductor.url) as client:
        cases = [
            ({"zome": "blog", "function": "f"}, "`instance_id` param not provided"),
            ({"instance_id": 5, "zome": "blog", "function": "f"}, "`instance_id` is not a valid json string"),
            ({"instance_id": "nope"}, "`zome` param not provided"),
            (
                {"instance_id": "nope", "zome": "blog", "function": "f"},
                'instance identifier invalid: PublicInstanceIdentifier("nope")',
            ),
            (
                {"instance_id": "test-instance", "zome": "nope", "function": "f"},
                "Holochain Instance Error: Zome 'nope' not found",
            ),
            (
                {"instance_id": "test-instance", "zome": "blog", "function": "nope"},
                "Holochain Instance Error: Zome function 'nope' not found in Zome 'blog'",
            ),
        ]
        for params, message in cases:
            with pytest.raises(RpcError) as err:
                await client.request("call", params)
            assert (err.value.code, err.value.message) == (-32602, message)
        with pytest.raises(RpcError) as err:
            await client.request("call", [1, 2])
        assert (err.value.code, err.value.message) == (-32602, "expected params map")
        with pytest.raises(RpcError) as err:
            await client.request("no/such/method", {})
        assert err.value.code == -32601


async def test_bad_frames_never_take_the_server_down(hc_run):
    conductor = hc_run()
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(conductor.url, max_msg_size=0) as ws:
            await ws.send_str("{this is not json")
            assert json.loads(await ws.receive_str())["error"]["code"] == -32700
            await ws.send_str(
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": "call", "params": {**CREATE, "args": {"content": [[[[[]]]]]}}}
                )
            )
            reply = json.loads(await ws.receive_str())
            assert json.loads(reply["result"]) == {"SerializationError": "invalid type: sequence, expected a string"}
            deep = "[" * 50_000 + "]" * 50_000
            await ws.send_str(deep)
            assert json.loads(await ws.receive_str())["error"]["code"] == -32700
            await ws.send_bytes(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "info/instances"}).encode())
            assert json.loads(await ws.receive_str())["id"] == 2  # binary frames holding UTF-8 are fine
            await ws.send_bytes(b"\xff\xfe not utf-8")
            closed = await ws.receive()
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1007
        async with session.ws_connect(conductor.url, max_msg_size=0) as ws:
            try:
                await ws.send_str("x" * (6 * 1024 * 1024))  # over the 5 MiB bound
            except ConnectionError:
                pass  # the server may close before the whole frame is written
            closed = await ws.receive()
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
            if closed.type == aiohttp.WSMsgType.CLOSE:
                assert closed.data == 1009  # message too big
        async with await Client.connect(conductor.url) as client:  # still serving
            assert (await client.call_zome("test-instance", "blog", "create_post", {"content": "ok"}))["Ok"]


async def test_a_client_that_disconnects_mid_call_loses_nothing(hc_run):
    conductor = hc_run("--persist")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(conductor.url) as ws:
            for i in range(50):
                await ws.send_str(
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": i,
                            "method": "call",
                            "params": {**CREATE, "args": {"content": f"post {i}"}},
                        }
                    )
                )
        # closed without reading a single reply
    async with await Client.connect(conductor.url) as client:
        address = (await client.call_zome("test-instance", "blog", "post_address", {"content": "post 49"}))["Ok"]
        for _ in range(50):
            got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": address})
            if got["Ok"] is not None:
                break
            await asyncio.sleep(0.05)
        assert got["Ok"] is not None


async def test_concurrent_calls_on_one_connection_all_succeed_and_chain_stays_linear(hc_run):
    conductor = hc_run("--persist")
    async with await Client.connect(conductor.url) as client:
        results = await asyncio.gather(
            *[client.call_zome("test-instance", "blog", "create_post", {"content": f"hammer {i}"}) for i in range(300)]
        )
    assert all("Ok" in r for r in results)
    assert len({r["Ok"] for r in results}) == 300
    conductor.stop()
    db = sqlite3.connect(conductor.cwd / ".hc" / "instance.sqlite3")
    rows = db.execute("SELECT seq, header FROM chain ORDER BY seq").fetchall()
    db.close()
    assert [r[0] for r in rows] == list(range(303))
    for (_, prev), (_, cur) in zip(rows, rows[1:]):
        assert ChainHeader.from_json(cjson.loads(cur)).link == ChainHeader.from_json(cjson.loads(prev)).address


async def test_persist_keeps_the_chain_across_restarts(hc_run, tmp_path):
    first = hc_run("--persist")
    async with await Client.connect(first.url) as client:
        address = (await client.call_zome("test-instance", "blog", "create_post", {"content": "durable"}))["Ok"]
    assert first.stop() == 0
    assert (tmp_path / ".hc" / "instance.sqlite3").exists()
    second = hc_run("--persist")
    async with await Client.connect(second.url) as client:
        got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": address})
    assert got["Ok"] == {"App": ["post", '{"content":"durable","date_created":"now"}']}


async def test_without_persist_nothing_is_kept(hc_run):
    first = hc_run()
    async with await Client.connect(first.url) as client:
        address = (await client.call_zome("test-instance", "blog", "create_post", {"content": "ephemeral"}))["Ok"]
    first.stop()
    second = hc_run()
    async with await Client.connect(second.url) as client:
        assert (await client.call_zome("test-instance", "blog", "get_post", {"post_address": address}))["Ok"] is None


async def test_http_interface(hc_run):
    conductor = hc_run("--interface", "http")
    url = f"http://127.0.0.1:{conductor.port}"
    async with aiohttp.ClientSession() as session:
        body = '{"jsonrpc":"2.0","id":"0","method":"info/instances"}'
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
            text = await resp.text()
            assert text.endswith("\n")
            assert json.loads(text) == {
                "jsonrpc": "2.0",
                "id": "0",
                "result": [{"id": "test-instance", "dna": "hc-run-dna", "agent": "hc-run-agent"}],
            }
        async with session.post(
            url + "/any/path", json={"jsonrpc": "2.0", "id": 1, "method": "call", "params": CREATE}
        ) as resp:
            assert json.loads((await resp.json())["result"])["Ok"].startswith("Qm")
        async with session.post(url, data=body, headers={"Content-Type": "text/plain"}) as resp:
            assert resp.status == 415
        async with session.get(url) as resp:
            assert resp.status == 405
        async with session.options(url) as resp:
            assert resp.status == 200 and resp.headers["Allow"] == "OPTIONS, POST"
        async with session.post(
            url, data='{"jsonrpc":"2.0","method":"info/instances"}', headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 200 and await resp.text() == ""  # a notification: no reply
        async with session.post(url, data=b"\xff\xfe", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400 and "utf-8" in await resp.text()
        async with session.post(
            url, data=b"x" * (6 * 1024 * 1024), headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 413
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 200  # still serving


def test_curl_example_from_the_issue(hc_run):
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for this test")
    conductor = hc_run("--interface", "http")
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"jsonrpc":"2.0","id":"0","method":"info/instances"}',
            f"http://127.0.0.1:{conductor.port}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert json.loads(out.stdout)["result"][0]["id"] == "test-instance"


def test_package_flag_packages_then_runs(spawn, tmp_path):
    project = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    conductor = spawn([HC, "run", "--package", "--port", "0"], project)
    assert (project / "dist" / "blog.dna.json").exists()
    assert conductor.port > 0


def test_missing_dna_says_what_to_do(tmp_path):
    done = subprocess.run([HC, "run", "--port", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "Error while trying to boot from config: Could not load DNA file" in done.stderr
    assert "hc package" in done.stderr


def test_port_in_use_is_a_clear_error(blog_dna, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [HC, "run", "--port", str(port), "--dna", str(blog_dna)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert "Error while trying to boot from config: " in done.stderr
    assert f"cannot listen on port {port}" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_it_cleanly(hc_run, sig):
    conductor = hc_run()
    assert conductor.stop(sig) == 0


async def test_a_zome_that_raises_gets_an_error_and_the_server_keeps_serving(hc_run, tmp_path):
    dna = package(
        write_project(
            tmp_path,
            {
                "blog": """
from holochain import hdk
zome = hdk.Zome()
@zome.function(public=True)
def create_post(content: str) -> str:
    raise RuntimeError("the zome has a bug")
@zome.function(public=True)
def fine() -> str:
    return "fine"
"""
            },
        )
    )
    conductor = hc_run(dna=dna)
    async with await Client.connect(conductor.url) as client:
        with pytest.raises(RpcError) as err:
            await client.request("call", CREATE)
        assert err.value.code == -32602
        assert err.value.message == "Holochain Instance Error: Zome function failure: RuntimeError: the zome has a bug"
        assert await client.call_zome("test-instance", "blog", "fine") == {"Ok": "fine"}


def test_sync_client(hc_run):
    from holochain.client import SyncClient

    conductor = hc_run()
    with SyncClient(conductor.url) as client:
        assert client.info_instances()[0]["id"] == "test-instance"
        created = client.call_zome("test-instance", "blog", "create_post", {"content": "from sync code"})
        assert client.call_zome("test-instance", "blog", "get_post", {"post_address": created["Ok"]})["Ok"]
        with pytest.raises(RpcError, match="Zome 'nope' not found"):
            client.call_zome("test-instance", "nope", "f")
