"""`hc chain`: a stored source chain, read while its conductor runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import HC, HOLOCHAIN, one_instance_config
from holochain.client import Client
from holochain.storage.base import ChainRow, WriteBatch
from holochain.storage.sqlite import SqliteStore


def hc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HC, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def chain_json(cwd: Path, *args: str) -> dict:
    done = hc("chain", "--json", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_chain_of_a_running_persisted_conductor(hc_run, tmp_path):
    conductor = hc_run("--persist")
    async with await Client.connect(conductor.url) as client:
        addresses = [
            (await client.call_zome("test-instance", "blog", "create_post", {"content": f"post {i}"}))["Ok"]
            for i in range(3)
        ]
        # genesis (Dna, AgentId, public grant) then three posts, newest first
        doc = chain_json(tmp_path)
        assert (doc["instance"], doc["length"]) == ("test-instance", 6)
        kinds = [r["entry_type"] for r in doc["records"]]
        assert kinds == ["post", "post", "post", "%cap_token_grant", "%agent_id", "%dna"]
        assert [r["entry_address"] for r in doc["records"][:3]] == addresses[::-1]
        assert doc["records"][0]["entry"] == {"App": ["post", '{"content":"post 2","date_created":"now"}']}
        newest = doc["records"][0]["header"]
        assert newest["entry_address"] == addresses[2] and newest["link"] == doc["records"][1]["header_address"]

        text = hc("chain", cwd=tmp_path)
        assert text.returncode == 0, text.stderr
        lines = text.stdout.splitlines()
        assert lines[0] == "Chain of 'test-instance' (.hc/instance.sqlite3): 6 records, newest first"
        assert lines[2].startswith("#5  ") and lines[2].endswith("  post")
        assert f"    entry   {addresses[2]}" in lines
        assert "(4" in text.stdout and "characters; --json prints it whole)" in text.stdout  # the Dna entry, cut

        listed = hc("chain", "--list", cwd=tmp_path)
        assert listed.stdout.strip() == "test-instance  6 records  (.hc)"

        # reading took no lock: the conductor goes on committing, and the next read sees it
        more = await client.call_zome("test-instance", "blog", "create_post", {"content": "after reading"})
        assert chain_json(tmp_path, "--limit", "1")["records"][0]["entry_address"] == more["Ok"]
    assert conductor.stop() == 0
    # and the store opens again for writing: nothing was left locked or changed by the reader
    again = hc_run("--persist")
    async with await Client.connect(again.url) as client:
        got = await client.call_zome("test-instance", "blog", "get_post", {"post_address": more["Ok"]})
        assert got["Ok"] is not None
    again.stop()
    assert chain_json(tmp_path)["length"] == 7


def write_store(directory: Path, records: int) -> None:
    """A store of ``records`` chain rows written through the real SQLite store, in big groups."""
    store = SqliteStore(directory, synchronous="normal")
    try:
        for start in range(0, records, 10_000):
            batch = WriteBatch()
            for seq in range(start, min(records, start + 10_000)):
                entry = f"Qmentry{seq}"
                header = {"entry_type": {"App": "note"}, "entry_address": entry, "timestamp": f"t{seq}"}
                batch.chain.append(ChainRow(seq, f"Qmheader{seq}", json.dumps(header), entry, "note"))
                batch.contents[entry] = json.dumps({"App": ["note", json.dumps({"n": seq})]})
            store.write(batch)
            store.flush()
    finally:
        store.close()


def test_a_long_chain_prints_its_head_and_pages(tmp_path):
    write_store(tmp_path / "storage" / "big", 100_000)
    doc = chain_json(tmp_path, "--path", "storage", "--limit", "3")
    assert (doc["instance"], doc["length"]) == ("big", 100_000)
    assert [r["seq"] for r in doc["records"]] == [99_999, 99_998, 99_997]
    assert doc["records"][0]["entry"] == {"App": ["note", '{"n": 99999}']}

    page = hc("chain", "--path", "storage", "--limit", "2", "--skip", "3", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert [line.split()[0] for line in page.stdout.splitlines() if line.startswith("#")] == ["#99996", "#99995"]
    assert page.stdout.rstrip().endswith("... 99995 older records (--skip 5 for the next page, --all for every record)")

    tail = chain_json(tmp_path, "--path", "storage", "--skip", "99998")
    assert [r["seq"] for r in tail["records"]] == [1, 0]


def test_instances_are_listed_and_chosen_by_name(tmp_path):
    write_store(tmp_path / "storage" / "alice", 3)
    write_store(tmp_path / "storage" / "bob" / "app", 5)
    listed = hc("chain", "--list", "--path", "storage", cwd=tmp_path).stdout.splitlines()
    assert [line.split("  ")[:2] for line in listed] == [["alice", "3 records"], ["bob/app", "5 records"]]
    assert json.loads(hc("chain", "--list", "--json", "-p", "storage", cwd=tmp_path).stdout)[1]["length"] == 5

    unnamed = hc("chain", "--path", "storage", cwd=tmp_path)
    assert unnamed.returncode == 1
    assert "2 instances under storage: name one of alice, bob/app" in unnamed.stderr
    assert chain_json(tmp_path, "bob/app", "--path", "storage")["length"] == 5
    missing = hc("chain", "carol", "--path", "storage", cwd=tmp_path)
    assert "no instance 'carol' under storage; found: alice, bob/app" in missing.stderr


def test_without_a_store_it_says_what_to_do(tmp_path):
    done = hc("chain", cwd=tmp_path)
    assert done.returncode == 1
    assert "run `hc run --persist` first" in done.stderr
    (tmp_path / "empty").mkdir()
    assert "no instance stores under empty" in hc("chain", "-p", "empty", cwd=tmp_path).stderr


async def test_chain_of_a_running_production_conductor_by_storage_path(spawn, blog_dna, tmp_path):
    config = one_instance_config(
        tmp_path, blog_dna, storage=f'type = "lmdb"\npath = "{tmp_path / "data" / "storage" / "app"}"'
    )
    conductor = spawn([HOLOCHAIN, "-c", str(config)], tmp_path, ready="*** Done. All interfaces started.")
    async with await Client.connect(conductor.url) as client:
        created = await client.call_zome("app", "blog", "create_post", {"content": "operator view"})
        listed = hc("chain", "--list", "--path", "data", cwd=tmp_path)
        assert listed.stdout.startswith("storage/app  4 records  ("), listed.stdout + listed.stderr
        doc = chain_json(tmp_path, "storage/app", "--path", "data", "--limit", "1")
        assert doc["records"][0]["entry_address"] == created["Ok"]
        assert doc["records"][0]["header"]["provenances"][0][0].startswith("HcS")
        # or named by the configuration's instance ids
        by_config = hc("chain", "--list", "-c", str(config), cwd=tmp_path)
        assert by_config.stdout.startswith("app  4 records  ("), by_config.stdout + by_config.stderr
        assert chain_json(tmp_path, "app", "-c", str(config))["records"][0]["entry_address"] == created["Ok"]
    assert conductor.stop() == 0
