"""A foreign web page in a real headless Chromium (Debian's, driven by playwright-core) against a
running `holochain -c`: it can neither call nor read the app or admin interfaces, not even by DNS
rebinding, while the conductor's own UI page still works with hc-web-client.

The foreign page comes from a second local server under a foreign name (``127.evil.example``,
which a prefix match once took for loopback); Chromium resolves the foreign names to 127.0.0.1
(``--host-resolver-rules``), as the attacker's DNS would.  Two interfaces that list the page's
origin (or ``"*"``) are the control: the browser lets the page through to them, so what stops it
elsewhere is the conductor.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

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
from conftest import JS_DIR
from holochain.client import Client
from test_origin_host import with_origins


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker(tmp_path):
    """The attacker's web server: a second local server (loopback only) serving its page."""
    site = tmp_path / "attacker"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_a_foreign_page_can_neither_call_nor_read_the_conductor(tmp_path, spawn, attacker):
    assert os.access(CHROMIUM, os.X_OK), "Debian's chromium is installed by `make setup`"
    site, attacker_port = attacker
    attacker_origin = f"http://127.evil.example:{attacker_port}"
    bundle = ui_bundle(tmp_path)
    ui_port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("talk", signal_dna(tmp_path)),
        instance("app", "talk", "alice", None),
        interface("app-ws", ["app"]),
        interface("app-http", ["app"], kind="http"),
        with_origins(interface("app-listed", ["app"]), [attacker_origin]),
        with_origins(interface("app-any", ["app"], kind="http"), ["*"]),
        interface("admin-ws", [], admin=True),
        interface("admin-http", [], admin=True, kind="http"),
        f'[[ui_bundles]]\nid = "bundle"\nroot_dir = {toml_str(bundle)}\n'
        f'[[ui_interfaces]]\nid = "ui"\nbundle = "bundle"\nport = {ui_port}\ndna_interface = "app-ws"\n',
    )
    conductor = start_holochain(spawn, config, tmp_path)
    ports = {name.replace("-", "_"): port for name, port in conductor.ports.items()} | {"ui": ui_port}
    page = (JS_DIR / "attack_page.html").read_text().replace("/*CONFIG*/", json.dumps(ports))
    (site / "attack.html").write_text(page)
    rebind = {name: f"http://evil.example:{port}/" for name, port in ports.items()}
    profile = tmp_path / "profile"
    profile.mkdir()

    async with await Client.connect(f"ws://127.0.0.1:{ports['app_ws']}") as watcher:
        browser = await asyncio.create_subprocess_exec(
            "node",
            str(JS_DIR / "foreign_page.js"),
            cwd=JS_DIR,
            env={
                **os.environ,
                "NODE_PATH": str(JS_DIR / "node_modules"),
                "CHROMIUM": CHROMIUM,
                "PROFILE_DIR": str(profile),
                "ATTACK_URL": f"{attacker_origin}/attack.html",
                "REBIND": json.dumps(rebind),
                "WS_PORTS": json.dumps([ports["admin_ws"], ports["app_ws"], ports["app_listed"]]),
                "UI_URL": f"http://127.0.0.1:{ui_port}/",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(browser.communicate(), 100)
        assert browser.returncode == 0, stdout.decode() + stderr.decode()
        seen = []
        while not watcher.signals.empty():
            seen.append(json.loads(watcher.signals.get_nowait()["signal"]["arguments"])["message"])

    outcome = json.loads(stdout.decode().strip().splitlines()[-1])
    attack = outcome["attack"]
    # the control: the browser itself lets this page reach interfaces that list its origin
    assert attack["control_ws"]["answer"]["result"] == [{"id": "app", "dna": "talk", "agent": "alice"}]
    assert attack["control_http"]["status"] == 200
    # every other interface refused it: no WebSocket opens, no CORS answer, nothing readable
    for host in ("127.0.0.1", "localhost"):
        for target in ("admin_ws", "app_ws", "admin_http", "app_http", "ui"):
            expected = "refused" if target.endswith("_ws") else "blocked"
            assert attack[f"{target}_{host}"] == expected, (target, host, attack[f"{target}_{host}"])
        assert attack[f"app_http_nocors_{host}"] == {"opaque": "opaque"}  # sent blind, and refused unread
    # a refused request ran no zome function (the control and the UI page's calls did)
    assert "from a foreign page" not in seen
    assert "control" in seen and "browser signal" in seen
    # DNS rebinding: under the foreign name every server answers 421 and opens no WebSocket
    for name, rebound in outcome["rebinding"].items():
        assert rebound["status"] == 421, name
        assert rebound["fetched"]["get"] == 421 and rebound["fetched"]["post"] == 421, name
        assert "not served here" in rebound["fetched"]["body"], name
        assert rebound["ws"] == ["refused", "refused", "refused"], name
    # the conductor's own UI page still works with hc-web-client
    ui = outcome["ui"]
    assert "failed" not in ui, ui
    assert ui["instances"] == [{"id": "app", "dna": "talk", "agent": "alice"}]
    assert ui["echo"] == '{"Ok":"from the browser"}'
    assert ui["finished"] is True
