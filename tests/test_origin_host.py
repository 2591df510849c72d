"""Origins and hosts on every server of a running `holochain -c`: admin and app interfaces over
WebSocket and HTTP, and UI interfaces. Each attack here worked before web_security.py: a
prefix-matched Origin, any Origin on app interfaces, CORS reflected for any page, and no Host
check anywhere (DNS rebinding)."""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import pytest

from conductor_setup import agent, dna, free_port, instance, interface, signal_dna, start_holochain, write_config
from holochain.client import Client

FOREIGN = [
    "http://127.evil.example",
    "https://127.0.0.1.nip.io",
    "http://localhost.evil.example:8888",
    "http://evil.example",
    "null",
]
LOOPBACK = ["http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:9000"]
SHOUT = {"instance_id": "app", "zome": "talk", "function": "shout", "args": {"message": "from a foreign page"}}


def with_origins(section: str, origins: list[str]) -> str:
    """An interface section with ``allowed_origins`` (before its driver table)."""
    head, driver = section.split("[interfaces.driver]", 1)
    return head + f"allowed_origins = {json.dumps(origins)}\n[interfaces.driver]" + driver


@pytest.fixture
def conductor(tmp_path, spawn):
    talk = signal_dna(tmp_path)
    bundle = tmp_path / "ui"
    bundle.mkdir()
    (bundle / "index.html").write_text("<p>ui</p>")
    (bundle / ".env").write_text("SECRET=1")
    (bundle / ".git").mkdir()
    (bundle / ".git" / "config").write_text("[remote]")
    (bundle / "loop").symlink_to(bundle / "loop")
    (bundle / "deep").mkdir()
    (bundle / "deep" / "index.html").write_text("<p>deep</p>")
    os.mkfifo(bundle / "fifo")
    ui_port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("talk", talk),
        instance("app", "talk", "alice", None),
        interface("app-ws", ["app"]),
        interface("app-http", ["app"], kind="http"),
        with_origins(interface("app-listed", ["app"]), ["https://app.example:8443"]),
        with_origins(interface("app-any", ["app"], kind="http"), ["*"]),
        interface("admin-ws", [], admin=True),
        interface("admin-http", [], admin=True, kind="http"),
        f'[[ui_bundles]]\nid = "bundle"\nroot_dir = "{bundle}"\n'
        f'[[ui_interfaces]]\nid = "ui"\nbundle = "bundle"\nport = {ui_port}\ndna_interface = "app-ws"\n'
        "reroute_to_root = false\n",
    )
    proc = start_holochain(spawn, config, tmp_path)
    proc.ports["ui"] = ui_port
    return proc


async def ws_status(port: int, headers: dict[str, str]) -> int:
    """101 when the handshake succeeded and a request got its answer, else the refusal's status."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(f"ws://127.0.0.1:{port}", headers=headers) as ws:
                await ws.send_str('{"jsonrpc":"2.0","id":1,"method":"info/instances"}')
                while True:
                    reply = json.loads(await ws.receive_str(timeout=10))
                    if reply.get("id") == 1:
                        assert isinstance(reply["result"], list), reply
                        return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


async def http_call(port: int, headers: dict[str, str], method: str = "POST") -> aiohttp.ClientResponse:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": SHOUT})
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"http://127.0.0.1:{port}/", data=body, headers={"Content-Type": "application/json", **headers}
        ) as r,
    ):
        await r.read()
        return r


async def no_signal_within(client: Client, seconds: float) -> None:
    try:
        signal = await asyncio.wait_for(client.signals.get(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"a refused request ran a zome function: {signal}")


@pytest.mark.parametrize("origin", FOREIGN)
async def test_foreign_pages_cannot_open_admin_or_app_websockets(conductor, origin):
    for name in ("admin-ws", "app-ws", "app-listed"):
        assert await ws_status(conductor.ports[name], {"Origin": origin}) == 403, (name, origin)


async def test_loopback_pages_clients_without_origin_and_listed_origins_are_served(conductor):
    for name in ("admin-ws", "app-ws", "app-listed"):
        assert await ws_status(conductor.ports[name], {}) == 101
        for origin in LOOPBACK:
            assert await ws_status(conductor.ports[name], {"Origin": origin}) == 101, (name, origin)
    assert await ws_status(conductor.ports["app-listed"], {"Origin": "https://app.example:8443"}) == 101
    assert await ws_status(conductor.ports["app-ws"], {"Origin": "https://app.example:8443"}) == 403
    # the page of the conductor's own UI interface
    assert await ws_status(conductor.ports["app-ws"], {"Origin": f"http://127.0.0.1:{conductor.ports['ui']}"}) == 101


async def test_foreign_pages_get_no_cors_and_no_zome_runs_over_http(conductor):
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['app-ws']}") as watcher:
        for name in ("app-http", "admin-http"):
            for origin in FOREIGN:
                for method in ("POST", "OPTIONS"):
                    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
                    r = await http_call(conductor.ports[name], headers, method)
                    assert r.status == 403, (name, origin, method)
                    assert "Access-Control-Allow-Origin" not in r.headers
        await no_signal_within(watcher, 1.0)
        # the same call from a loopback page runs, and its CORS answer names only that page
        r = await http_call(conductor.ports["app-http"], {"Origin": "http://localhost:3000"})
        assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        signal = await asyncio.wait_for(watcher.signals.get(), 10)
        assert signal["signal"]["name"] == "shouted"


async def test_star_opens_an_interface_to_every_origin_only_where_written(conductor):
    r = await http_call(conductor.ports["app-any"], {"Origin": "http://evil.example"})
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://evil.example"
    r = await http_call(conductor.ports["app-http"], {"Origin": "http://evil.example"})
    assert r.status == 403


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1.nip.io:{port}", "localhost:1", "localhost"])
async def test_every_server_refuses_a_foreign_host_dns_rebinding(conductor, host):
    async with aiohttp.ClientSession() as session:
        for name, port in conductor.ports.items():
            headers = {"Host": host.format(port=port)}
            async with session.get(f"http://127.0.0.1:{port}/", headers=headers) as r:
                assert r.status == 421, (name, host)
                assert "X-Content-Type-Options" in r.headers
            if name != "ui":
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(f"ws://127.0.0.1:{port}", headers=headers)
                assert refused.value.status == 421


async def test_loopback_hosts_are_served(conductor):
    async with aiohttp.ClientSession() as session:
        for host in ("localhost", "127.0.0.1", "[::1]"):
            port = conductor.ports["ui"]
            async with session.get(f"http://127.0.0.1:{port}/", headers={"Host": f"{host}:{port}"}) as r:
                assert (r.status, await r.text()) == (200, "<p>ui</p>"), host
            port = conductor.ports["app-ws"]
            assert await ws_status(port, {"Host": f"{host}:{port}"}) == 101


async def test_ui_pages_carry_security_headers_and_hide_dotfiles_loops_and_long_paths(conductor):
    base = f"http://127.0.0.1:{conductor.ports['ui']}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/") as r:
            assert r.status == 200
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        async with session.get(f"{base}/deep/") as r:
            assert await r.text() == "<p>deep</p>"
        for path in ("/.env", "/.git/config", "/.git/", "/loop", "/loop/x", "/fifo", "/" + "a" * 4096, "/a%00b"):
            async with session.get(base + path) as r:
                assert r.status == 404, path
                assert "SECRET" not in await r.text()
        async with session.get(f"{base}/_dna_connections.json") as r:
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    # the conductor kept serving
    async with aiohttp.ClientSession() as session, session.get(f"{base}/") as r:
        assert r.status == 200


def test_an_allowed_origins_entry_that_is_no_origin_stops_the_boot(tmp_path):
    from conductor_setup import run_holochain

    config = write_config(tmp_path / "c.toml", tmp_path / "data", with_origins(interface("w", []), ["127.0.0.1:3000"]))
    done = run_holochain(config, tmp_path)
    assert done.returncode == 2
    assert "interface 'w': allowed_origins entry '127.0.0.1:3000' is not an origin" in done.stderr, done.stderr
