"""UI hosting: ui_bundles + ui_interfaces serve a bundle's files and
/_dna_connections.json, so hc-web-client's url-less connect() finds the conductor, in a
real headless Chromium (Debian's) driven by playwright-core."""

from __future__ import annotations

import json
import os
import tomllib

import aiohttp
import pytest
from yarl import URL

from conductor_setup import (
    CHROMIUM,
    agent,
    dna,
    free_port,
    instance,
    interface,
    signal_dna,
    start_holochain,
    toml_str,
    ui_bundle,
    write_config,
)
from conftest import JS_DIR, node
from holochain.client import Client, RpcError


@pytest.fixture
def hosted(tmp_path, spawn):
    talk = signal_dna(tmp_path)
    bundle = ui_bundle(tmp_path)
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
        interface("admin", [], admin=True),
        f'[[ui_bundles]]\nid = "bundle"\nroot_dir = {toml_str(bundle)}\n'
        f'[[ui_interfaces]]\nid = "ui"\nbundle = "bundle"\nport = {ui_port}\ndna_interface = "app-ws"\n',
    )
    conductor = start_holochain(spawn, config, tmp_path)
    return {"conductor": conductor, "ui_port": ui_port, "data": data, "bundle": bundle, "tmp": tmp_path}


def test_a_page_in_headless_chromium_connects_without_a_url(hosted, tmp_path):
    assert os.access(CHROMIUM, os.X_OK), "Debian's chromium is installed by `make setup`"
    profile = tmp_path / "profile"
    profile.mkdir()
    # a client-side route: the SPA fallback serves the root page there too
    done = node(
        str(JS_DIR / "ui_browser.js"),
        timeout=90,
        env={
            "CHROMIUM": CHROMIUM,
            "PROFILE_DIR": str(profile),
            "UI_URL": f"http://127.0.0.1:{hosted['ui_port']}/posts/42",
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])["result"]
    assert "failed" not in result, result
    assert result["instances"] == [{"id": "app", "dna": "talk", "agent": "alice"}]
    assert result["echo"] == '{"Ok":"from the browser"}'
    assert result["signal"] == {
        "type": "InstanceSignal",
        "instance_id": "app",
        "signal": {"signal_type": "User", "name": "shouted", "arguments": '{"message":"browser signal"}'},
    }
    assert result["path"] == "/posts/42"
    assert result["finished"] is True


async def test_static_files_connections_and_nothing_outside_the_bundle(hosted):
    base = f"http://127.0.0.1:{hosted['ui_port']}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/_dna_connections.json") as r:
            connections = await r.json()
        assert connections == {
            "dna_interface": {
                "id": "app-ws",
                "driver": {"type": "websocket", "port": hosted["conductor"].ports["app-ws"]},
                "admin": False,
                "instances": [{"id": "app", "alias": None}],
                "choose_free_port": None,
            }
        }
        async with session.get(f"{base}/hc-web-client.js") as r:
            assert r.status == 200 and "javascript" in r.headers["Content-Type"]
        async with session.get(f"{base}/") as r:
            index = await r.text()
        assert "holochainclient.connect()" in index
        async with session.get(f"{base}/../secret.txt") as r:  # the client makes this /secret.txt
            assert await r.text() == index  # unknown paths get the root page
        for path in ("/%2e%2e/secret.txt", "/..%2fsecret.txt", "/a/%2e%2e/%2e%2e/secret.txt"):  # sent as written
            async with session.get(URL(base + path, encoded=True)) as r:
                body = await r.text()
            assert "not for the web" not in body
            assert (r.status, body) == (404, "Not Found\n")  # a path that climbs is refused, not rerouted


async def test_ui_admin_methods_start_stop_and_persist(hosted):
    conductor = hosted["conductor"]
    other = hosted["tmp"] / "other-ui"
    other.mkdir()
    (other / "index.html").write_text("<p>other</p>")
    port = free_port()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        assert await admin.request("admin/ui/list", {}) == [
            {"id": "bundle", "root_dir": str(hosted["bundle"]), "hash": None}
        ]
        assert await admin.request("admin/ui/install", {"id": "other", "root_dir": str(other)}) == {"success": True}
        assert await admin.request("admin/ui_interface/add", {"id": "ui2", "port": port, "bundle": "other"}) == {
            "success": True
        }
        with pytest.raises(RpcError) as err:
            await admin.request("admin/ui_interface/stop", {"id": "ui2"})
        assert err.value.message == "Holochain Instance Error: server is already stopped"
        assert await admin.request("admin/ui_interface/start", {"id": "ui2"}) == {"success": True}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as r:
                assert await r.text() == "<p>other</p>"
            async with session.get(f"http://127.0.0.1:{port}/_dna_connections.json") as r:
                assert await r.json() == {"dna_interface": None}
        listed = await admin.request("admin/ui_interface/list", {})
        assert listed[1] == {
            "id": "ui2",
            "bundle": "other",
            "port": port,
            "dna_interface": None,
            "reroute_to_root": True,
            "bind_address": "127.0.0.1",
        }
        with pytest.raises(RpcError) as err:
            await admin.request("admin/ui_interface/start", {"id": "nope"})
        assert err.value.message == "Holochain Instance Error: Instance does not exist"
        assert await admin.request("admin/ui/uninstall", {"id": "other"}) == {"success": True}
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get(f"http://127.0.0.1:{port}/"):
                    pass
    doc = tomllib.loads((hosted["data"] / "conductor-config.toml").read_text())
    assert [b["id"] for b in doc["ui_bundles"]] == ["bundle"]
    assert [u["id"] for u in doc["ui_interfaces"]] == ["ui"]
