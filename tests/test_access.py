"""Who may reach what: loopback binding, browser origins on admin interfaces,
capability tokens, and secrets kept out of logs and errors."""

from __future__ import annotations

import json
import subprocess

import aiohttp
import pytest

from conftest import HOLOCHAIN
from holochain.client import Client, RpcError
from holochain.conductor.keystore import Keystore


def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name, _width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(name) as fh:
            next(fh)
            for line in fh:
                local, _, state = line.split()[1:4]
                address, port_hex = local.split(":")
                if int(port_hex, 16) == port and state == "0A":  # LISTEN
                    found.add(address)
    return found


def test_interfaces_listen_on_loopback_only(hc_run):
    conductor = hc_run()
    addresses = listening_addresses(conductor.port)
    loopback_v4 = "0100007F"
    loopback_v6 = "00000000000000000000000001000000"
    assert addresses and addresses <= {loopback_v4, loopback_v6}, addresses


async def test_a_foreign_browser_origin_cannot_open_an_admin_interface(hc_run):
    conductor = hc_run()  # hc run's interface is an admin interface
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(conductor.url, headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        for origin in ("http://localhost:3000", "http://127.0.0.1:8080"):
            async with session.ws_connect(conductor.url, headers={"Origin": origin}) as ws:
                await ws.send_str('{"jsonrpc":"2.0","id":1,"method":"info/instances"}')
                reply = json.loads(await ws.receive_str())
                while "id" not in reply:
                    reply = json.loads(await ws.receive_str())
                assert reply["result"][0]["id"] == "test-instance"


async def test_functions_outside_hc_public_need_a_capability(hc_run, tmp_path):
    from conftest import package, write_project

    dna = package(
        write_project(
            tmp_path,
            {
                "blog": """
from holochain import hdk
zome = hdk.Zome()
@zome.function(public=True)
def open_fn() -> str:
    return "open"
@zome.function
def guarded() -> str:
    return "guarded"
"""
            },
        )
    )
    conductor = hc_run(dna=dna)
    async with await Client.connect(conductor.url) as client:
        assert await client.call_zome("test-instance", "blog", "open_fn") == {"Ok": "open"}
        for token in (None, "QmNotAGrant", "HcSCIv3cPT5kegjoqgXM7nVU8rFbd9pyg5oOYUz9PSryp5mb7DKhCsXCS768pua"):
            with pytest.raises(RpcError, match="Caller does not have Capability to make that call"):
                await client.call_zome("test-instance", "blog", "guarded", token=token)


async def test_secrets_never_reach_logs_or_errors(tmp_path, blog_dna, spawn):
    from holochain.core.dna import Dna

    keystore = Keystore.generate()
    keystore.save(tmp_path / "agent.keystore", "correct horse battery staple", kdf="interactive")
    config = tmp_path / "conductor.toml"
    base = f"""
[[agents]]
id = "a"
name = "a"
public_address = "{keystore.public_address}"
keystore_file = "{tmp_path / "agent.keystore"}"
[passphrase_service]
type = "env"
variable = "TEST_PASSPHRASE"
[[dnas]]
id = "d"
file = "{blog_dna}"
hash = "{Dna.from_text(blog_dna.read_bytes()).address}"
[[instances]]
id = "i"
dna = "d"
agent = "a"
[instances.storage]
type = "memory"
[[interfaces]]
id = "w"
admin = true
[interfaces.driver]
type = "websocket"
port = 0
[[interfaces.instances]]
id = "i"
"""
    config.write_text(base)
    secrets = [
        "correct horse battery staple",
        "wrong passphrase here",
        keystore.root_seed.hex(),
        keystore.root_seed.hex().upper(),
    ]
    # a wrong passphrase: a clear error, and neither passphrase nor seed in the output
    done = subprocess.run(
        [HOLOCHAIN, "-c", str(config), "--log-level", "debug"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TEST_PASSPHRASE": "wrong passphrase here", "PATH": ""},
    )
    assert done.returncode != 0
    assert "wrong passphrase" in done.stderr.lower()
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr

    # the right one: the conductor runs and serves; still no secret anywhere in its output
    conductor = spawn(
        [HOLOCHAIN, "-c", str(config), "--log-level", "debug"],
        tmp_path,
        env={"TEST_PASSPHRASE": "correct horse battery staple"},
        ready="*** Done. All interfaces started.",
    )
    async with await Client.connect(f"ws://127.0.0.1:{conductor.port}") as client:
        assert (await client.call_zome("i", "blog", "create_post", {"content": "hi"}))["Ok"]
    conductor.stop()
    out, err = conductor.output()
    assert keystore.public_address in out + err or "Unlocking" in out + err
    for secret in secrets:
        assert secret not in out and secret not in err
