"""`holochain -c` with WebAssembly DNAs: boots, answers over WebSocket, refuses what cannot run."""

from __future__ import annotations

import asyncio
import json
import subprocess

from conductor_setup import agent, dna, instance, interface, run_holochain, start_holochain, write_config
from conftest import HC, REPO
from holochain.client import Client
from wat_zomes import proxy_zome, wasm_dna

BOOT_ERROR = "Error while trying to boot from config: "


def _write_dna(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


async def test_a_wasm_dna_boots_and_answers_while_a_spinning_call_computes(tmp_path, spawn):
    dna_file = _write_dna(tmp_path / "wat.dna.json", wasm_dna(proxy_zome()))
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", dna_file),
        instance("i", "d", "a", tmp_path / "data" / "i"),
        interface("w", ["i"], admin=True),
        extra="[limits]\nwasm_fuel = 1000000000000\nwasm_time_ms = 2000\n",
    )
    conductor = start_holochain(spawn, config, tmp_path, env={"HC_WASM_CACHE": str(tmp_path / "cache")})
    url = f"ws://127.0.0.1:{conductor.ports['w']}"
    async with await Client.connect(url) as one, await Client.connect(url) as two:
        assert [i["id"] for i in await one.info_instances()] == ["i"]
        committed = await one.call_zome("i", "wat", "commit", {"entry": {"App": ["note", '"hi"']}})
        assert committed["ok"] is True and json.loads(committed["value"])["address"].startswith("Qm")
        spinning = asyncio.ensure_future(one.call_zome("i", "wat", "spin", {}))
        answered = 0
        while not spinning.done() and answered < 5000:
            assert await two.call_zome("i", "wat", "echo", {"n": answered}) == {"n": answered}
            answered += 1
        assert answered > 0
        error = None
        try:
            await spinning
        except Exception as exc:
            error = str(exc)
        assert error is not None and "zome 'wat' function 'spin': ran past its 2000 ms deadline" in error


def test_a_zome_importing_what_we_do_not_provide_is_a_boot_error(tmp_path):
    dna_file = _write_dna(tmp_path / "bad.dna.json", wasm_dna(proxy_zome(extra_imports=("hc_teleport",))))
    config = write_config(
        tmp_path / "c.toml", tmp_path / "data", agent("a"), dna("d", dna_file), instance("i", "d", "a", None)
    )
    done = run_holochain(config, tmp_path, env=None)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(BOOT_ERROR)]
    assert lines and "zome 'wat' imports `env.hc_teleport`, which this conductor does not provide" in lines[0]


async def test_hc_run_serves_a_wasm_dna(tmp_path, spawn):
    dna_file = _write_dna(tmp_path / "wat.dna.json", wasm_dna(proxy_zome()))
    conductor = spawn(
        [HC, "run", "--port", "0", "--dna", str(dna_file)], tmp_path, env={"HC_WASM_CACHE": str(tmp_path / "c")}
    )
    async with await Client.connect(f"ws://127.0.0.1:{conductor.port}") as client:
        assert [i["id"] for i in await client.info_instances()] == ["test-instance"]
        assert await client.call_zome("test-instance", "wat", "echo", {"hello": "wasm"}) == {"hello": "wasm"}


def test_hc_run_refuses_a_wasm_dna_it_cannot_run(tmp_path):
    dna_file = _write_dna(tmp_path / "bad.dna.json", wasm_dna(proxy_zome(extra_imports=("hc_start_bundle",))))
    done = subprocess.run(
        [HC, "run", "--port", "0", "--dna", str(dna_file)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert BOOT_ERROR in done.stderr
    assert "imports `env.hc_start_bundle`, which this conductor does not provide" in done.stderr
    assert "holochain-rust never provided it either" in done.stderr


async def test_the_wasm_blog_twin_answers_as_the_python_blog(tmp_path, spawn):
    from conductor_setup import blog_copy

    wasm_blog = REPO / "wasm" / "build" / "blog.dna.json"
    if not wasm_blog.is_file():
        subprocess.run(["make", "wasm"], cwd=REPO, check=True, timeout=900)
    answers = []
    for dna_file in (wasm_blog, blog_copy(tmp_path)):
        conductor = spawn(
            [HC, "run", "--port", "0", "--dna", str(dna_file)], tmp_path, env={"HC_WASM_CACHE": str(tmp_path / "c")}
        )
        async with await Client.connect(f"ws://127.0.0.1:{conductor.port}") as client:
            created = await client.call_zome(
                "test-instance", "blog", "create_post", {"content": "Holo world", "in_reply_to": None}
            )
            got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": created["Ok"]})
            greeting = await client.call_zome("test-instance", "blog", "get_greeting", {})
            answers.append((created, got, greeting))
        conductor.stop()
    assert answers[0] == answers[1]
    assert answers[0][1] == {"Ok": {"App": ["post", '{"content":"Holo world","date_created":"now"}']}}
