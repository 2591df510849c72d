"""The conductor's dashboard and /metrics, with real parts: conductors sharing an in-process network,
the dashboard's own server on a loopback port, Debian's headless Chromium driven by playwright-core,
JSON-RPC over a real WebSocket, and prometheus-client's own parser for /metrics."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tomllib
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conductor_setup import (
    agent,
    blog_copy,
    dna,
    free_port,
    instance,
    interface,
    run_holochain,
    signal_dna,
    start_holochain,
    write_config,
)
from conftest import HC, JS_DIR
from holochain.client import Client
from holochain.conductor.config_file import parse_config, to_toml
from holochain.conductor.dashboard_config import DashboardConfig
from holochain.interfaces.dashboard import dashboard_url
from holochain.testing.scenario import DnaSpec, PlayerConfig, Scenario

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _split(url: str) -> tuple[str, str]:
    base, _, token = url.partition("/?token=")
    return base, token


@pytest.fixture
async def players(tmp_path):
    """alice runs a blog and a signals instance with a WebSocket interface and the dashboard; bob joins later."""
    blog = blog_copy(tmp_path)
    talk = signal_dna(tmp_path)
    scenario = Scenario(tmp_path / "scenario")
    alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(blog), "talk": DnaSpec(talk)}, websocket=True))
    url = await alice.service.start_dashboard()
    try:
        yield {"scenario": scenario, "alice": alice, "url": url, "blog": blog, "talk": talk}
    finally:
        await scenario.close()


async def _metrics(session: aiohttp.ClientSession, url: str) -> dict[tuple[str, tuple], float]:
    base, token = _split(url)
    async with session.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class _Browser:
    """The node driver (tests/js/dashboard_browser.js) as a subprocess we talk to line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def open(cls, url: str, tmp_path: Path) -> _Browser:
        assert os.access(CHROMIUM, os.X_OK), "Debian's chromium is installed by `make setup`"
        profile = tmp_path / "profile"
        profile.mkdir()
        shots = tmp_path / "screenshots"
        shots.mkdir()
        env = {
            **os.environ,
            "NODE_PATH": str(JS_DIR / "node_modules"),
            "CHROMIUM": CHROMIUM,
            "PROFILE_DIR": str(profile),
            "URL": url,
            "SHOTS": str(shots),
        }
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(JS_DIR / "dashboard_browser.js"),
            cwd=JS_DIR,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def step(self, ask: dict | None = None) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if ask is not None:
            self.proc.stdin.write((json.dumps(ask) + "\n").encode())
            await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not line:
            err = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"the browser driver ended: {err.decode()[-2000:]}")
        report = json.loads(line)
        assert report["step"] != "failed", report["error"]
        return report

    async def close(self) -> None:
        if self.proc.returncode is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b'{"done": true}\n')
                await self.proc.stdin.drain()
                await asyncio.wait_for(self.proc.wait(), 30)
            except (TimeoutError, ConnectionError):
                self.proc.kill()
                await self.proc.wait()


async def test_the_dashboard_in_chromium_follows_the_conductor_live(players, tmp_path):
    alice, scenario = players["alice"], players["scenario"]
    browser = await _Browser.open(players["url"], tmp_path)
    try:
        loaded = await browser.step()
        assert loaded["instances"] == [{"id": "app", "status": "running"}, {"id": "talk", "status": "running"}]
        assert loaded["interfaces"] == ["websocket-interface"]
        assert "token=" not in loaded["url"]  # the page drops it from the address bar (a cookie carries it)
        assert loaded["problems"] == []

        # an entry committed over JSON-RPC shows up in the chain view, without a reload
        async with await Client.connect(alice.url) as client:
            result = await client.call_zome("app", "blog", "create_post", {"content": "seen live", "in_reply_to": None})
            address = result["Ok"]
            entry = await browser.step({"wait_entry": address})
            assert entry["loads"] == 1, "the page was reloaded"
            assert "seen live" in entry["text"] and "post" in entry["text"]

            # a second player joins the space: its agent appears on alice's ring
            bob = await scenario.player("bob", PlayerConfig({"app": DnaSpec(players["blog"])}))
            ring = await browser.step({"wait_agent": bob.info("app").agent_address})
            assert set(ring["agents"]) == {alice.info("app").agent_address, bob.info("app").agent_address}
            assert ring["loads"] == 1

            # the live log: a zome call, a signal, and a validation failure with its reason
            await client.call_zome("talk", "talk", "shout", {"message": "hello log"})
            refused = await client.call_zome("app", "blog", "create_post", {"content": "x" * 300, "in_reply_to": None})
            assert "Content too long" in json.dumps(refused)
            logged = await browser.step({"wait_log": ["call", "signal", "validation"]})
            assert ["call", "talk/shout"] in logged["rows"]
            assert ["signal", "User: shouted"] in logged["rows"]
            assert logged["problems"] == []
    finally:
        await browser.close()
    for name in ("1-chain", "2-entry", "3-dht", "4-log", "5-network"):
        assert (tmp_path / "screenshots" / f"{name}.png").stat().st_size > 10_000


async def test_metrics_parse_and_counters_rise_with_calls(players):
    alice, url = players["alice"], players["url"]
    async with aiohttp.ClientSession() as session, await Client.connect(alice.url) as client:
        before = await _metrics(session, url)
        for i in range(3):
            assert "Ok" in await client.call_zome(
                "app", "blog", "create_post", {"content": f"m{i}", "in_reply_to": None}
            )
        await client.call_zome("app", "blog", "create_post", {"content": "y" * 300, "in_reply_to": None})  # refused
        with pytest.raises(Exception):
            await client.call_zome("app", "blog", "no_such_function", {})
        after = await _metrics(session, url)
        calls = "holochain_zome_calls_total"
        labels = {"instance": "app", "zome": "blog", "function": "create_post"}
        assert _value(after, calls, **labels, result="ok") - _value(before, calls, **labels, result="ok") == 3
        assert _value(after, calls, **labels, result="err") - _value(before, calls, **labels, result="err") == 1
        # a name the DNA does not declare is counted, but not as a label of its own
        unknown = {"instance": "app", "zome": "_unknown", "function": "_unknown", "result": "error"}
        assert _value(after, calls, **unknown) == _value(before, calls, **unknown) + 1
        count = "holochain_zome_call_duration_seconds_count"
        assert _value(after, count, **labels) - _value(before, count, **labels) == 4
        assert _value(after, "holochain_zome_call_duration_seconds_bucket", **labels, le="+Inf") == _value(
            after, count, **labels
        )
        assert (
            _value(after, "holochain_commits_total", instance="app")
            - _value(before, "holochain_commits_total", instance="app")
            == 3
        )
        assert _value(after, "holochain_source_chain_records", instance="app") == alice.instance("app").chain.length
        assert _value(after, "holochain_validation_failures_total", instance="app") >= 1
        assert _value(after, "holochain_interface_connections", interface="websocket-interface") == 1
        assert _value(after, "holochain_instance_running", instance="talk") == 1
        for name in (
            "holochain_zome_calls_in_flight",
            "holochain_dht_held_ops",
            "holochain_network_peers",
            "holochain_gossip_rounds_total",
            "holochain_publish_queue_ops",
        ):
            assert (name, (("instance", "app"),)) in after, name

        bob = await players["scenario"].player("bob", PlayerConfig({"app": DnaSpec(players["blog"])}))
        await players["scenario"].consistency()
        joined = await _metrics(session, url)
        assert _value(joined, "holochain_network_peers", instance="app") == 1
        assert _value(joined, "holochain_dht_held_ops", instance="app") > 0
        assert bob.running


async def test_group_commit_and_fsync_histograms_of_a_sqlite_store(tmp_path):
    blog = blog_copy(tmp_path)
    async with Scenario(tmp_path / "scenario") as scenario:
        alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(blog)}, websocket=True, storage="sqlite"))
        url = await alice.service.start_dashboard()
        await asyncio.gather(*(alice.call("app", "blog", "create_post", {"content": f"g{i}"}) for i in range(20)))
        async with aiohttp.ClientSession() as session:
            samples = await _metrics(session, url)
    groups = _value(samples, "holochain_storage_group_commit_batches_count", instance="app")
    batches = _value(samples, "holochain_storage_group_commit_batches_sum", instance="app")
    assert groups >= 1 and batches >= 20
    assert groups < batches, "twenty concurrent commits share group commits"
    assert _value(samples, "holochain_storage_group_commit_seconds_count", instance="app") >= groups
    assert _value(samples, "holochain_storage_group_commit_seconds_sum", instance="app") > 0


async def test_access_needs_the_token_a_local_host_and_no_foreign_origin(players):
    base, token = _split(players["url"])
    port = base.rsplit(":", 1)[1]
    # unsafe: the jar keeps cookies of IP-address hosts (as a browser does)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(players["url"]) as r:  # the printed URL: the page, and its cookie
            assert r.status == 200 and "Holochain conductor" in await r.text()
            assert r.cookies[f"hc_dashboard_{port}"].value == token
        for path in ("/", "/metrics", "/assets/dashboard.js", "/ws"):
            async with aiohttp.ClientSession() as fresh, fresh.get(base + path) as r:  # no token, no cookie
                assert r.status == 401, path
                assert "access token" in await r.text()
        async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}/metrics?token=wrong-{token}") as r:
            assert r.status == 401 and "wrong dashboard token" in await r.text()
        # with the cookie the page set: the assets and the WebSocket
        async with session.get(f"{base}/assets/dashboard.js") as r:
            assert r.status == 200 and "javascript" in r.headers["Content-Type"]
        async with session.ws_connect(f"{base.replace('http', 'ws')}/ws", origin=base) as ws:
            hello = json.loads((await ws.receive()).data)
            assert hello["type"] == "hello" and hello["read_only"] is True
            overview = json.loads((await ws.receive()).data)
            assert overview["type"] == "overview"
            assert [i["id"] for i in overview["data"]["instances"]] == ["app", "talk"]
        for origin in ("http://evil.example", "http://localhost:3000", f"https://127.0.0.1:{port}", "null"):
            async with session.get(players["url"], headers={"Origin": origin}) as r:
                assert r.status == 403 and "may not use this dashboard" in await r.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{base.replace('http', 'ws')}/ws?token={token}", origin=origin)
            assert refused.value.status == 403
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", "127.0.0.1:1"):
            async with session.get(players["url"], headers={"Host": host}) as r:
                assert r.status == 421 and "is not served here" in await r.text()
        async with session.get(players["url"], headers={"Host": f"localhost:{port}"}) as r:
            assert r.status == 200
        async with session.get(f"{base}/assets/../../server.py?token={token}") as r:
            assert r.status == 404


async def test_chain_pages_are_read_from_the_position_asked_for(players):
    alice, url = players["alice"], players["url"]
    for i in range(120):
        await alice.call("app", "blog", "create_post", {"content": f"p{i}"})
    base, token = _split(url)
    length = alice.instance("app").chain.length
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base.replace('http', 'ws')}/ws?token={token}") as ws:
            await ws.send_json({"chain": {"instance": "app", "before": 60, "limit": 25}})
            await ws.send_json({"chain": {"instance": "app", "before": None, "limit": 1000}})
            await ws.send_json({"chain": {"instance": "nope"}})
            await ws.send_json({"chain": {"instance": "app", "before": "x"}})
            await ws.send_str("not json")
            pages, errors = [], []
            while len(pages) < 2 or len(errors) < 3:
                message = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
                if message["type"] == "chain" and not message["live"]:
                    pages.append(message["data"])
                elif message["type"] == "error":
                    errors.append(message["message"])
    older, head = pages
    assert [r["seq"] for r in older["records"]] == list(range(59, 34, -1))
    assert older["length"] == length
    assert len(head["records"]) == 100  # a page is bounded, whatever is asked
    assert head["records"][0]["seq"] == length - 1
    assert head["records"][0]["entry_type"] == "post"
    assert json.loads(head["records"][0]["entry"]["App"][1])["content"] == "p119"
    assert errors == [
        "no running instance 'nope'",
        "chain: `before` and `limit` are integers",
        "requests are JSON objects",
    ]


def test_the_printed_url_names_a_reachable_loopback_address():
    assert dashboard_url("127.0.0.1", 8889, "t") == "http://127.0.0.1:8889/?token=t"
    assert dashboard_url("0.0.0.0", 8889, "t") == "http://127.0.0.1:8889/?token=t"
    assert dashboard_url("::1", 8889, "t") == "http://[::1]:8889/?token=t"


# -- the two commands ------------------------------------------------------------------------


def _dashboard_line(lines: list[str]) -> str:
    found = [line.strip() for line in lines if line.startswith("Dashboard: ")]
    assert len(found) == 1, lines
    return found[0].removeprefix("Dashboard: ")


async def test_hc_run_prints_the_dashboard_url_and_serves_it(spawn, blog_dna, tmp_path):
    proc = spawn(
        [HC, "run", "--port", "0", "--dna", str(blog_dna)], tmp_path, ready="Holochain development conductor started"
    )
    url = _dashboard_line(proc.stdout_lines)
    assert url.startswith("http://127.0.0.1:") and "/?token=" in url
    async with aiohttp.ClientSession() as session, await Client.connect(proc.url) as client:
        await client.call_zome("test-instance", "blog", "create_post", {"content": "hi", "in_reply_to": None})
        samples = await _metrics(session, url)
        assert (
            _value(
                samples,
                "holochain_zome_calls_total",
                instance="test-instance",
                zome="blog",
                function="create_post",
                result="ok",
            )
            == 1
        )
        async with session.get(url) as r:
            assert r.status == 200 and "dashboard.js" in await r.text()
    no_dashboard = spawn(
        [HC, "run", "--port", "0", "--dna", str(blog_dna), "--no-dashboard"],
        tmp_path,
        ready="Holochain development conductor started",
    )
    assert not any(line.startswith("Dashboard: ") for line in no_dashboard.stdout_lines)


async def test_holochain_serves_the_dashboard_its_config_asks_for(spawn, tmp_path):
    talk = signal_dna(tmp_path)
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    token = "a-fixed-token-for-prometheus"
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("talk", talk),
        instance("app", "talk", "alice", None),
        interface("app-ws", ["app"]),
        f'[dashboard]\nport = {port}\nbind_address = "127.0.0.1"\ntoken = "{token}"\n',
    )
    conductor = start_holochain(spawn, config, tmp_path)
    url = _dashboard_line(conductor.stdout_lines)
    assert url == f"http://127.0.0.1:{port}/?token={token}"
    async with aiohttp.ClientSession() as session:
        samples = await _metrics(session, url)
        assert _value(samples, "holochain_instance_running", instance="app") == 1
        async with session.get(f"http://127.0.0.1:{port}/metrics") as r:
            assert r.status == 401


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('port = "x"', "dashboard: `port` must be an integer between 0 and 65535, not 'x'"),
        ("port = 70000", "dashboard: `port` must be an integer between 0 and 65535, not 70000"),
        ("colour = 1", "dashboard: unknown key `colour`; the keys are bind_address, port, token"),
        ('token = "short"', "dashboard: `token` must be a string of at least 16 printable characters"),
    ],
)
def test_a_bad_dashboard_table_is_refused_naming_the_key(tmp_path, table, message):
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(data / "conductor-config.toml", data, f"[dashboard]\n{table}\n")
    done = run_holochain(config, tmp_path)
    assert done.returncode == 2
    assert f"Error while trying to boot from config: {message}" in done.stderr


def test_the_dashboard_table_survives_a_saved_configuration():
    empty = {"agents": [], "dnas": [], "instances": [], "interfaces": []}
    config = parse_config({**empty, "dashboard": {"port": 8889, "bind_address": "127.0.0.1"}})
    assert config.dashboard == DashboardConfig(port=8889, bind_address="127.0.0.1")
    again = parse_config(tomllib.loads(to_toml(config)))
    assert again.dashboard == config.dashboard
    assert parse_config(empty).dashboard is None


async def _next(ws: aiohttp.ClientWebSocketResponse, kind: str, matches=lambda data: True) -> dict:
    """The next message of ``kind`` whose data ``matches`` (pushes come every half second)."""
    while True:
        message = json.loads((await asyncio.wait_for(ws.receive(), 20)).data)
        if message["type"] == kind and matches(message.get("data")):
            return message


async def test_a_stopped_instance_and_a_new_peer_are_pushed_without_asking(players):
    alice, url = players["alice"], players["url"]
    base, token = _split(url)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base.replace('http', 'ws')}/ws?token={token}") as ws:
            await ws.send_json({"watch": "app"})
            first = await _next(ws, "overview")
            assert {i["id"]: i["status"] for i in first["data"]["instances"]} == {"app": "running", "talk": "running"}
            async with await Client.connect(alice.url) as admin:
                assert await admin.request("admin/instance/stop", {"id": "talk"}) == {"success": True}
                stopped = await _next(
                    ws, "overview", lambda d: {i["id"]: i["status"] for i in d["instances"]}["talk"] == "stopped"
                )
            assert stopped["data"]["interfaces"][0]["connections"] == 1  # the admin client above
            bob = await players["scenario"].player("bob", PlayerConfig({"app": DnaSpec(players["blog"])}))
            bob_agent = bob.info("app").agent_address
            network = await _next(ws, "network", lambda d: any(bob_agent in n["peers"] for n in d))
            app = next(n for n in network["data"] if n["instance"] == "app")
            assert app["relay"] == {"kind": "memory", "connected": True, "server": None}
            ring = await _next(ws, "dht", lambda d: d is not None and d["members"] == 2)
            agents = {a["agent"]: a for a in ring["data"]["agents"]}
            assert agents[bob_agent]["local"] is False and agents[alice.info("app").agent_address]["me"] is True
            assert all(0 <= a["location"] < 1 and a["arcs"] == [[0.0, 1.0]] for a in agents.values())
            assert ring["data"]["ops"] and all(set(op["holders"]) == set(agents) for op in ring["data"]["ops"])


async def test_each_conductor_has_its_own_registry(players):
    scenario = players["scenario"]
    bob = await scenario.player("bob", PlayerConfig({"app": DnaSpec(players["blog"])}, websocket=True))
    bob_url = await bob.service.start_dashboard()
    await players["alice"].call("app", "blog", "create_post", {"content": "alice only"})
    await asyncio.sleep(0)
    async with aiohttp.ClientSession() as session, await Client.connect(players["alice"].url) as client:
        await client.call_zome("app", "blog", "create_post", {"content": "counted", "in_reply_to": None})
        alice_samples = await _metrics(session, players["url"])
        bob_samples = await _metrics(session, bob_url)
    labels = {"instance": "app", "zome": "blog", "function": "create_post", "result": "ok"}
    assert _value(alice_samples, "holochain_zome_calls_total", **labels) == 1
    assert _value(bob_samples, "holochain_zome_calls_total", **labels) == 0
    assert ("holochain_instance_running", (("instance", "talk"),)) not in bob_samples


async def test_a_dashboard_port_in_use_is_a_clear_boot_error(spawn, tmp_path):
    import socket

    data = tmp_path / "data"
    data.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(data / "conductor-config.toml", data, f"[dashboard]\nport = {port}\n")
        done = run_holochain(config, tmp_path)
    assert done.returncode == 2
    assert f"Error while trying to boot from config: dashboard: cannot listen on port {port}" in done.stderr
