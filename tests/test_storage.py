"""The SQLite store: group commit, reads of what is not yet durable, caches, schema 1 files,
and the source chain's verified mark (what a restart re-hashes instead of re-verifying)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import package, write_project
from holochain.conductor.conductor import load_dna_file
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.instance import chain as chain_module
from holochain.instance.chain import VERIFIED_MARK_KEY
from holochain.instance.instance import Instance
from holochain.storage import sqlite as sqlite_module
from holochain.storage import writer_client
from holochain.storage.base import ChainRow, CrudFact, CrudState, EavRow, LinkFact, StorageError, WriteBatch
from holochain.storage.memory_store import MemoryStore
from holochain.storage.sqlite import DB_FILENAME, SCHEMA_VERSION, SqliteStore

ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome()

@zome.entry_type("note", description="a note")
@dataclass
class Note:
    text: str

@zome.function(public=True)
def add(text: str) -> str:
    return hdk.commit_entry(Note(text))

@zome.function(public=True)
def get(address: str):
    return hdk.get_entry(address)
"""


@pytest.fixture(scope="module")
def dna(tmp_path_factory):
    return load_dna_file(package(write_project(tmp_path_factory.mktemp("dna"), {"notes": ZOME})))


async def open_instance(dna, directory):
    instance = Instance(
        "inst", dna, AgentKey.for_test_agent("alice"), "alice", SqliteStore(directory, label="instance 'inst'")
    )
    await instance.initialize()
    instance.start()
    return instance


async def add(instance, text):
    out = instance.call("notes", "add", {"text": text})
    return cjson.loads(out if isinstance(out, str) else await out)["Ok"]


async def durable(store, ticket):
    fut = store.wait_durable(ticket)
    if fut is not None:
        await fut


# -- the store ---------------------------------------------------------------------------------


async def test_reads_see_writes_before_and_after_they_are_durable(tmp_path):
    store = SqliteStore(tmp_path)
    row = EavRow("QmEntity", "crud-status", "live", 1)
    ticket = store.write(WriteBatch(contents={"QmA": '{"x":1}'}, eav=[row], kv={"k": "v1"}))
    assert store.get_content("QmA") == '{"x":1}'
    assert store.eav("QmEntity") == [row]  # read (and cached from disk) before the write reached it
    assert store.kv_get("k") == "v1"
    await durable(store, ticket)
    assert store.durable_ticket >= ticket
    assert store.eav("QmEntity") == [row]  # not a stale cache of the earlier disk read
    later = EavRow("QmEntity", "crud-status", "deleted", 2)
    ticket = store.write(WriteBatch(eav=[later], kv={"k": "v2"}))
    assert set(store.eav("QmEntity", "crud-")) == {row, later}
    assert store.kv_get("k") == "v2"
    await durable(store, ticket)
    assert set(store.eav("QmEntity", "crud-")) == {row, later}
    store.close()
    again = SqliteStore(tmp_path)
    assert set(again.eav("QmEntity")) == {row, later} and again.kv_get("k") == "v2"
    assert again.get_content("QmA") == '{"x":1}'
    again.close()


async def test_writes_of_one_tick_share_one_transaction(tmp_path):
    store = SqliteStore(tmp_path)
    tickets = [store.write(WriteBatch(contents={f"Qm{i}": f'"{i}"'})) for i in range(50)]
    await durable(store, tickets[-1])
    assert store.stats.batches == 50
    assert store.stats.transactions == 1
    store.close()


async def test_a_record_is_stored_once_and_read_back_as_every_row_it_was_written_as(tmp_path):
    store = SqliteStore(tmp_path)
    header = '{"entry_type":"AgentId","entry_address":"HcSx"}'
    live = CrudFact("QmEntry", "live", None, 7)
    ticket = store.write(
        WriteBatch(
            chain=[ChainRow(0, "QmHeader", header, "QmEntry", "%agent_id")],
            contents={"QmEntry": '{"AgentId":{}}', "QmHeader": '{"ChainHeader":' + header + "}"},
            headers=[("QmEntry", "QmHeader", header)],
            crud=[live],
        )
    )
    await durable(store, ticket)
    store.close()
    tables = ("contents", "headers", "eav", "crud")
    db = sqlite3.connect(tmp_path / DB_FILENAME)
    assert [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables] == [0, 0, 0, 0]
    assert db.execute("SELECT content, folded, live FROM chain").fetchall() == [('{"AgentId":{}}', 3, 7)]
    db.close()
    again = SqliteStore(tmp_path)
    assert again.get_content("QmEntry") == '{"AgentId":{}}'
    assert again.get_content("QmHeader") == '{"ChainHeader":' + header + "}"
    assert again.held_headers("QmEntry") == [header]
    assert again.crud("QmEntry") == CrudState(1) and again.crud("QmEntry").status == "live"
    assert again.eav("QmEntry") == []
    assert again.held_counts() == (1, 1)
    # written again later (as a holder would), nothing is stored twice
    ticket = again.write(
        WriteBatch(contents={"QmEntry": '{"AgentId":{}}'}, headers=[("QmEntry", "QmHeader", header)], crud=[live])
    )
    await durable(again, ticket)
    assert again.held_counts() == (1, 1)
    again.close()
    db = sqlite3.connect(tmp_path / DB_FILENAME)
    assert [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables] == [0, 0, 0, 0]
    db.close()


async def test_held_counts_count_distinct_entries_and_every_header(tmp_path):
    store = SqliteStore(tmp_path)
    ticket = store.write(WriteBatch(headers=[("QmE1", "QmH1", "{}"), ("QmE1", "QmH2", "{}"), ("QmE2", "QmH3", "{}")]))
    ticket = store.write(WriteBatch(headers=[("QmE1", "QmH1", "{}")]))  # already held: not counted again
    await durable(store, ticket)
    assert store.held_counts() == (2, 3)
    store.close()


async def test_a_failed_write_fails_its_callers_and_every_later_write(tmp_path):
    store = SqliteStore(tmp_path)
    first = store.write(WriteBatch(chain=[ChainRow(0, "QmH0", "{}", "QmE0", "post")]))
    await durable(store, first)
    clash = store.write(WriteBatch(chain=[ChainRow(0, "QmH1", "{}", "QmE1", "post")]))  # seq 0 again
    with pytest.raises(StorageError, match="UNIQUE"):
        await durable(store, clash)
    with pytest.raises(StorageError, match="failed"):
        store.write(WriteBatch(kv={"k": "v"}))
    store.close()


async def test_a_dead_writer_process_fails_what_waits_and_a_new_store_starts_another(tmp_path):
    store = SqliteStore(tmp_path / "a")
    await durable(store, store.write(WriteBatch(kv={"k": "v1"})))
    pid = sqlite_module.writer_process_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    ticket = store.write(WriteBatch(kv={"k": "v2"}))
    with pytest.raises(StorageError, match="writer process is gone"):
        await asyncio.wait_for(durable(store, ticket), 10)
    with pytest.raises(StorageError, match="writer process is gone"):
        store.write(WriteBatch(kv={"k": "v3"}))
    assert store.kv_get("k") == "v2"  # what it holds is still readable
    store.close()
    again = SqliteStore(tmp_path / "a")  # a new writer process
    assert sqlite_module.writer_process_pid() not in (None, pid)
    assert again.kv_get("k") == "v1"  # the acknowledged write survived; the other was never acknowledged
    await durable(again, again.write(WriteBatch(kv={"k": "v4"})))
    again.close()
    assert SqliteStore(tmp_path / "a").kv_get("k") == "v4"


async def test_a_write_to_a_closed_store_is_refused_not_lost(tmp_path):
    store = SqliteStore(tmp_path)
    await durable(store, store.write(WriteBatch(kv={"k": "v1"})))
    store.close()
    with pytest.raises(StorageError, match="is closed"):
        store.write(WriteBatch(kv={"k": "v2"}))
    again = SqliteStore(tmp_path)
    assert again.kv_get("k") == "v1"
    again.close()


def test_a_store_open_in_another_conductor_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_client, "LOCK_WAIT_S", 0.3)
    first = SqliteStore(tmp_path, label="instance 'one'")
    with pytest.raises(StorageError, match="in use by another conductor"):
        SqliteStore(tmp_path, label="instance 'two'")
    first.close()
    SqliteStore(tmp_path).close()  # free again once the first is closed


def test_the_writer_process_ends_with_its_conductor(tmp_path):
    script = (
        f"import os, sys; from holochain.storage.sqlite import SqliteStore, writer_process_pid; "
        f"s = SqliteStore({str(tmp_path)!r}); print(writer_process_pid(), flush=True); "
        f"sys.stdin.readline()"
    )
    conductor = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        writer = int(conductor.stdout.readline())
        os.kill(writer, 0)  # running
        conductor.kill()
        conductor.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(writer, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"writer process {writer} outlived its conductor")
    finally:
        conductor.kill()


SCHEMA_1 = """
CREATE TABLE chain (seq INTEGER PRIMARY KEY, header_address TEXT NOT NULL UNIQUE, header TEXT NOT NULL,
                    entry_address TEXT NOT NULL, entry_type TEXT NOT NULL);
CREATE TABLE contents (address TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE headers (entry_address TEXT NOT NULL, header_address TEXT NOT NULL, header TEXT NOT NULL,
                      PRIMARY KEY (entry_address, header_address)) WITHOUT ROWID;
CREATE TABLE eav (entity TEXT NOT NULL, attribute TEXT NOT NULL, value TEXT NOT NULL, idx INTEGER NOT NULL,
                  PRIMARY KEY (entity, attribute, value, idx)) WITHOUT ROWID;
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
PRAGMA user_version=1;
"""


async def test_a_schema_1_store_is_migrated_with_everything_in_it(dna, tmp_path):
    # a chain written by the current conductor, copied row for row into a schema-1 file
    instance = await open_instance(dna, tmp_path / "new")
    addresses = [await add(instance, f"note {i}") for i in range(5)]
    instance.close()
    new = sqlite3.connect(tmp_path / "new" / DB_FILENAME)
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    old = sqlite3.connect(old_dir / DB_FILENAME)
    old.executescript(SCHEMA_1)
    chain = new.execute("SELECT seq, header_address, header, entry_address, entry_type FROM chain").fetchall()
    old.executemany("INSERT INTO chain VALUES (?,?,?,?,?)", chain)
    old.executemany(
        "INSERT OR IGNORE INTO contents VALUES (?,?)",
        new.execute(
            "SELECT address, content FROM contents UNION ALL "
            "SELECT entry_address, content FROM chain WHERE content IS NOT NULL"
        ),
    )
    for _, header_address, header, _, _ in chain:  # schema 1 kept header-entries in contents
        old.execute("INSERT INTO contents VALUES (?,?)", (header_address, '{"ChainHeader":' + header + "}"))
    old.executemany(
        "INSERT INTO headers VALUES (?,?,?)",
        new.execute(
            "SELECT entry_address, header_address, header FROM headers UNION ALL "
            "SELECT entry_address, header_address, header FROM chain WHERE folded & 1"
        ),
    )
    old.executemany(
        "INSERT INTO eav VALUES (?,?,?,?)",
        new.execute(
            "SELECT * FROM eav UNION ALL SELECT entry_address, 'crud-status', 'live', live FROM chain WHERE live IS NOT NULL"
            " UNION ALL SELECT address, 'crud-status', 'live', 1 FROM crud"
        ),
    )
    old.executemany("INSERT INTO kv VALUES (?,?)", new.execute("SELECT * FROM kv WHERE key <> ?", (VERIFIED_MARK_KEY,)))
    old.commit()
    old.close()
    new.close()

    migrated = await open_instance(dna, old_dir)
    assert migrated.chain.length == 3 + 5
    for i, address in enumerate(addresses):
        out = migrated.call("notes", "get", {"address": address})
        assert cjson.loads(out if isinstance(out, str) else await out)["Ok"]["App"][1] == f'{{"text":"note {i}"}}'
    header_entry = migrated.store.get_content(migrated.chain.head.address)
    assert cjson.loads(header_entry) == {"ChainHeader": migrated.chain.head.to_json()}
    assert migrated.store.held_counts() == (8, 8)
    migrated.close()
    db = sqlite3.connect(old_dir / DB_FILENAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM contents WHERE content LIKE '{\"ChainHeader\":%'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM headers").fetchone()[0] == 0  # every held header folded into chain
    db.close()


def test_a_store_of_an_unknown_schema_is_refused_with_a_clear_message(tmp_path):
    db = sqlite3.connect(tmp_path / DB_FILENAME)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StorageError, match="schema version 99"):
        SqliteStore(tmp_path, label="instance 'x'")


# -- the verified mark ---------------------------------------------------------------------------


class CountingVerify:
    def __init__(self, monkeypatch):
        self.calls = 0
        real = chain_module.verify

        def counting(*args):
            self.calls += 1
            return real(*args)

        monkeypatch.setattr(chain_module, "verify", counting)


async def test_a_restart_rehashes_the_records_under_the_mark_instead_of_verifying_them(dna, tmp_path, monkeypatch):
    instance = await open_instance(dna, tmp_path)
    for i in range(10):
        await add(instance, f"n{i}")
    head = instance.chain.head.address
    instance.close()  # writes the mark for all 13 records
    counting = CountingVerify(monkeypatch)
    again = await open_instance(dna, tmp_path)
    assert again.chain.length == 13 and again.chain.head.address == head
    assert counting.calls == 1  # the mark's own signature, no record's
    await add(again, "after the restart")
    assert again.chain.length == 14
    again.close()


async def test_records_past_the_mark_are_verified(dna, tmp_path, monkeypatch):
    instance = await open_instance(dna, tmp_path)
    await add(instance, "marked")
    instance.close()
    again = await open_instance(dna, tmp_path)
    mark = again.store.kv_get(VERIFIED_MARK_KEY)
    for i in range(4):
        await add(again, f"unmarked {i}")
    again.store.close()  # a crash: the mark is left as it was
    counting = CountingVerify(monkeypatch)
    third = await open_instance(dna, tmp_path)
    assert counting.calls == 1 + 4
    assert third.store.kv_get(VERIFIED_MARK_KEY) != mark  # the start verified them: the mark moves on
    third.close()


async def test_tampering_under_the_mark_is_still_found_and_named(dna, tmp_path):
    instance = await open_instance(dna, tmp_path)
    for i in range(5):
        await add(instance, f"n{i}")
    instance.close()
    db = sqlite3.connect(tmp_path / DB_FILENAME)
    header = db.execute("SELECT header FROM chain WHERE seq=4").fetchone()[0]
    db.execute("UPDATE chain SET header=? WHERE seq=4", (header.replace('"timestamp":"', '"timestamp":"1'),))
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="damaged at record 4: header does not hash"):
        await open_instance(dna, tmp_path)


async def test_a_forged_mark_is_ignored(dna, tmp_path, monkeypatch):
    instance = await open_instance(dna, tmp_path)
    await add(instance, "n")
    instance.close()
    db = sqlite3.connect(tmp_path / DB_FILENAME)
    mark = cjson.loads(db.execute("SELECT value FROM kv WHERE key=?", (VERIFIED_MARK_KEY,)).fetchone()[0])
    mark["signature"] = AgentKey.for_test_agent("mallory").sign(
        f"holochain-py verified chain v1:{mark['length']}:{mark['digest']}"
    )
    db.execute("UPDATE kv SET value=? WHERE key=?", (cjson.dumps(mark), VERIFIED_MARK_KEY))
    db.commit()
    db.close()
    counting = CountingVerify(monkeypatch)
    again = await open_instance(dna, tmp_path)
    assert counting.calls == 1 + 4  # the forged mark, then every record
    again.close()


# -- the SQLite store reads back exactly what the memory store does ------------------------------

ENTRIES = [f"QmE{i}" for i in range(5)]
HEADERS = [f"QmH{i}" for i in range(5)]
ATTRIBUTES = [
    ("crud-status", "live"),
    ("crud-status", "modified"),
    ("crud-link", "QmE1"),
    ("link-add:x", "QmE2"),
    ("dht-held", "QmH0"),
]


def header_text(address: str) -> str:  # content-addressed: one text per address
    return '{"header":"' + address + '"}'


def content_text(address: str) -> str:
    return '{"App":["note","' + address + '"]}'


@st.composite
def batches(draw):
    out = []
    seq = 0
    for _ in range(draw(st.integers(1, 6))):
        batch = WriteBatch()
        for _ in range(draw(st.integers(0, 2))):
            entry, header = draw(st.sampled_from(ENTRIES)), HEADERS[seq % len(HEADERS)] + f"-{seq}"
            batch.chain.append(ChainRow(seq, header, header_text(header), entry, "note"))
            seq += 1
            if draw(st.booleans()):  # what the author writes with a record, folded into its row
                batch.contents[entry] = content_text(entry)
                batch.contents[header] = '{"ChainHeader":' + header_text(header) + "}"
                batch.headers.append((entry, header, header_text(header)))
                batch.eav.append(EavRow(entry, "crud-status", "live", draw(st.integers(1, 3))))
        for address in draw(st.lists(st.sampled_from(ENTRIES + HEADERS), max_size=3)):
            batch.contents[address] = content_text(address)
        for _ in range(draw(st.integers(0, 3))):
            header = draw(st.sampled_from(HEADERS + [r.header_address for b in out for r in b.chain]))
            batch.headers.append((draw(st.sampled_from(ENTRIES)), header, header_text(header)))
        for _ in range(draw(st.integers(0, 3))):
            attribute, value = draw(st.sampled_from(ATTRIBUTES))
            batch.eav.append(EavRow(draw(st.sampled_from(ENTRIES)), attribute, value, draw(st.integers(1, 3))))
        if draw(st.booleans()):
            batch.kv[draw(st.sampled_from(["a", "b"]))] = draw(st.sampled_from(["1", "2"]))
        for _ in range(draw(st.integers(0, 3))):
            status = draw(st.sampled_from(["live", "modified", "deleted"]))
            link = draw(st.sampled_from(ENTRIES)) if status == "modified" else None
            batch.crud.append(CrudFact(draw(st.sampled_from(ENTRIES)), status, link, draw(st.integers(1, 3))))
        for _ in range(draw(st.integers(0, 4))):
            link_add = draw(st.sampled_from(LINK_ADDS))
            base, link_type, tag = (
                draw(st.sampled_from(BASES)),
                draw(st.sampled_from(["t", "u"])),
                draw(st.sampled_from(TAGS)),
            )
            index = draw(st.integers(1, 5))
            if draw(st.booleans()):
                batch.links.append(LinkFact(base, link_add, link_type, tag, "T" + link_add, index))
            else:
                remover = draw(st.sampled_from(["QmR1", "QmR2"]))
                batch.links.append(LinkFact(base, link_add, link_type, tag, None, index, remover))
        out.append(batch)
    return out


BASES = ["QmBase1", "QmBase2"]
LINK_ADDS = [f"QmL{i}" for i in range(4)]
TAGS = ["a", "A", "b", "\u00e9", "\u00c9"]  # tags match ignoring case, not only in ASCII
SELECTIONS = [(t, g) for t in (None, "t") for g in (None, "a", "\u00c9")]
PAGES = [dict(), dict(descending=False), dict(offset=1, limit=2), dict(limit=1, after_index=2), dict(limit=0)]


def link_reads(store):
    return {
        "pages": {
            (base, t, g, i): [tuple(vars_of(f)) for f in store.link_page(base, t, g, **page)]
            for base in BASES
            for t, g in SELECTIONS
            for i, page in enumerate(PAGES)
        },
        "counts": {(base, t, g): store.link_count(base, t, g) for base in BASES for t, g in SELECTIONS},
        "to": {
            (base, la): sorted(tuple(vars_of(f)) for f in store.links_to(base, "T" + la))
            for base in BASES
            for la in LINK_ADDS
        },
    }


def vars_of(fact):
    return (fact.base, fact.link_add, fact.link_type, fact.tag, fact.target, fact.index, fact.removed_by)


def reads(store, addresses):
    return {
        "content": {a: store.get_content(a) for a in addresses},
        "headers": {a: sorted(store.held_headers(a)) for a in addresses},
        "eav": {
            (a, p): sorted((r.entity, r.attribute, r.value, r.index) for r in store.eav(a, p))
            for a in addresses
            for p in ("", "crud-", "link-", "dht-")
        },
        "kv": {k: store.kv_get(k) for k in ("a", "b")},
        "crud": {a: store.crud(a) for a in addresses},
        "links": link_reads(store),
        "counts": store.held_counts(),
        "chain": [store.chain_row(seq) for seq in range(store.chain_length())],
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(written=batches())
def test_the_sqlite_store_reads_back_what_the_memory_store_does(tmp_path_factory, written):
    directory = tmp_path_factory.mktemp("equivalence")
    memory, sqlite = MemoryStore(), SqliteStore(directory)
    for batch in written:
        memory.write(batch)
        sqlite.write(batch)
    addresses = ENTRIES + HEADERS + [r.header_address for b in written for r in b.chain]
    expected = reads(memory, addresses)
    before = reads(sqlite, addresses)
    del before["counts"]  # counts are of what is on disk, maybe not all of it yet
    assert before == {k: v for k, v in expected.items() if k != "counts"}
    sqlite.flush()
    assert reads(sqlite, addresses) == expected
    sqlite.close()
    again = SqliteStore(directory)
    assert reads(again, addresses) == expected
    again.close()
