"""CRUD and link state: what the stores keep per address and per LinkAdd answers exactly what
holochain-rust's rules over every fact answer (``strongest_status`` and the earliest crud link;
``select_links``), on the memory store and on a real SQLite store, before and after the facts
are durable; and a schema-2 file (a fact per EAV row) is migrated into those states."""

from __future__ import annotations

import itertools
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import package, write_project
from holochain.conductor.conductor import load_dna_file
from holochain.core import json as cjson
from holochain.core.crud import strongest_status
from holochain.core.crypto import AgentKey
from holochain.core.links import LinkRow, parse_link_options, select_links
from holochain.core.time import format_ns, parse_iso8601_ns
from holochain.instance.instance import Instance
from holochain.instance.shard import Shard
from holochain.storage import sqlite_schema
from holochain.storage.base import CrudFact, EavRow, LinkFact, WriteBatch
from holochain.storage.memory_store import MemoryStore
from holochain.storage.sqlite import DB_FILENAME, SCHEMA_VERSION, SqliteStore

ADDRESSES = ["QmA", "QmB", "QmC"]
BASE = "QmBase"
LINK_ADDS = [f"QmL{i}" for i in range(6)]
TYPES = ["t", "u"]
TAGS = ["x", "X", "y", "\u00e9"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def crud_facts(draw):
    facts = []
    for _ in range(draw(st.integers(1, 12))):
        status = draw(st.sampled_from(["live", "modified", "deleted"]))
        link = draw(st.sampled_from(ADDRESSES)) if status == "modified" else None
        facts.append(CrudFact(draw(st.sampled_from(ADDRESSES)), status, link, draw(st.integers(1, 4))))
    return facts


def expected_crud(facts, address):
    mine = [f for f in facts if f.address == address]
    links = sorted((f.index, f.link) for f in mine if f.link is not None)
    return strongest_status(f.status for f in mine), (links[0][1] if links else None)


def in_batches(facts, field, draw_sizes):
    """The facts in batches of the drawn sizes (every grouping must give the same state)."""
    it = iter(facts)
    out = []
    for size in draw_sizes:
        chunk = list(itertools.islice(it, size))
        if chunk:
            out.append(WriteBatch(**{field: chunk}))
    rest = list(it)
    if rest:
        out.append(WriteBatch(**{field: rest}))
    return out


def stores(tmp_path_factory):
    return [MemoryStore(), SqliteStore(tmp_path_factory.mktemp("state"))]


@SETTINGS
@given(facts=crud_facts(), sizes=st.lists(st.integers(1, 4), max_size=4))
def test_crud_state_is_the_strongest_status_and_the_earliest_crud_link(tmp_path_factory, facts, sizes):
    for store in stores(tmp_path_factory):
        shard = Shard(store, None)
        for batch in in_batches(facts, "crud", sizes):
            store.write(batch)
        for flushed in (False, True):
            if flushed and isinstance(store, SqliteStore):
                store.flush()
                store._crud_cache.items.clear()  # read from the disk itself
            for address in ADDRESSES + ["QmNone"]:
                assert shard.crud(address) == expected_crud(facts, address), (type(store).__name__, address)
        store.close()


@st.composite
def link_facts(draw):
    """Adds, and tombstones of the same type and tag (any case), as remove_link makes them: a
    LinkAdd has one header, so one index; a removal at a given time is one LinkRemove."""
    kinds = {
        la: (draw(st.sampled_from(TYPES)), draw(st.sampled_from(TAGS)), draw(st.integers(1, 6))) for la in LINK_ADDS
    }
    facts = []
    for _ in range(draw(st.integers(1, 14))):
        link_add = draw(st.sampled_from(LINK_ADDS))
        link_type, tag, added = kinds[link_add]
        if draw(st.booleans()):
            facts.append(LinkFact(BASE, link_add, link_type, tag, "QmT" + link_add[-1], added))
        else:
            index = draw(st.integers(1, 6))
            tag = [tag, tag.upper(), tag.lower()][index % 3]
            facts.append(LinkFact(BASE, link_add, link_type, tag, None, index, f"QmR{index}"))
    return facts


@st.composite
def link_queries(draw):
    options = {"status_request": draw(st.sampled_from(["Live", "Deleted", "All"]))}
    if draw(st.booleans()):
        options["sort_order"] = draw(st.sampled_from(["Ascending", "Descending"]))
    kind = draw(st.sampled_from([None, "Size", "Time"]))
    if kind == "Size":
        options["pagination"] = {"Size": {"page_number": draw(st.integers(0, 3)), "page_size": draw(st.integers(0, 3))}}
    elif kind == "Time":
        from_time = format_ns(draw(st.integers(0, 7)))
        options["pagination"] = {"Time": {"from_time": from_time, "limit": draw(st.integers(0, 4))}}
    return draw(st.sampled_from([None, *TYPES])), draw(st.sampled_from([None, *TAGS])), options


def expected_links(facts, link_type, tag, options):
    rows = [LinkRow(f.link_add, f.link_type, f.tag, f.index, f.removed_by) for f in facts]
    targets = {f.link_add: f.target for f in facts if f.target is not None}
    opts = parse_link_options(options)
    pagination = opts["pagination"]
    from_ns = None
    if pagination is not None and "Time" in pagination:
        from_ns = parse_iso8601_ns(pagination["Time"]["from_time"])
    answers = select_links(rows, link_type, tag, opts["status_request"], pagination, opts["sort_order"], from_ns)
    return [
        {"address": targets[a.link_add], "headers": [], "tag": a.tag, "status": a.status, "link_add": a.link_add}
        for a in answers
        if a.link_add in targets
    ]


@SETTINGS
@given(
    facts=link_facts(),
    sizes=st.lists(st.integers(1, 4), max_size=4),
    queries=st.lists(link_queries(), min_size=4, max_size=8),
)
def test_link_states_answer_get_links_as_every_link_fact_does(tmp_path_factory, facts, sizes, queries):
    for store in stores(tmp_path_factory):
        shard = Shard(store, None)
        for batch in in_batches(facts, "links", sizes):
            store.write(batch)
        for flushed in (False, True):
            if flushed and isinstance(store, SqliteStore):
                store.flush()
            for link_type, tag, options in queries:
                opts = parse_link_options(options)
                want = expected_links(facts, link_type, tag, options)
                got = shard.links(BASE, link_type, tag, opts)
                assert got == want, (type(store).__name__, flushed, link_type, tag, options)
                assert shard.link_count(BASE, link_type, tag, opts) == len(want)
            for link_add in LINK_ADDS:
                target = "QmT" + link_add[-1]
                for link_type, tag in itertools.product(TYPES, TAGS):
                    live = expected_links(facts, link_type, tag, {})
                    want = [l["link_add"] for l in live if l["address"] == target]
                    assert shard.live_links_to(BASE, target, link_type, tag) == want
        store.close()


# -- schema 2 (a fact per EAV row) is migrated into these states, nothing lost ------------------


def schema_2_file(directory, crud, links):
    """A schema-2 store holding ``crud`` and ``links`` as schema 2 wrote them: an EAV row each."""
    db = sqlite3.connect(directory / DB_FILENAME)
    db.executescript(f"BEGIN; {sqlite_schema._SCHEMA_2} {sqlite_schema.COUNT_HELD} PRAGMA user_version=2; COMMIT;")
    rows = []
    for f in crud:
        rows.append((f.address, "crud-status", f.status, f.index))
        if f.link is not None:
            rows.append((f.address, "crud-link", f.link, f.index))
    rows.append(("QmA", "crud-status", "rejected", 9))  # a status core never writes: kept as it is
    rows.append(("QmA", "dht-held", "QmH", 0))
    for f in links:
        if f.removed_by is None:
            rows.append(("links:" + f.base, "link-add:" + cjson.dumps([f.link_type, f.tag]), f.link_add, f.index))
            link = {"base": f.base, "target": f.target, "link_type": f.link_type, "tag": f.tag}
            content = cjson.dumps({"LinkAdd": {"action_kind": "ADD", "link": link}})
            db.execute("INSERT OR IGNORE INTO contents (address, content) VALUES (?, ?)", (f.link_add, content))
        else:
            attribute = "link-remove:" + cjson.dumps([f.removed_by, f.link_type, f.tag])
            rows.append(("links:" + f.base, attribute, f.link_add, f.index))
    db.executemany("INSERT OR IGNORE INTO eav VALUES (?,?,?,?)", rows)
    db.commit()
    db.close()


@SETTINGS
@given(crud=crud_facts(), links=link_facts(), queries=st.lists(link_queries(), min_size=4, max_size=8))
def test_a_schema_2_store_is_migrated_into_states_with_nothing_lost(tmp_path_factory, crud, links, queries):
    directory = tmp_path_factory.mktemp("schema2")
    schema_2_file(directory, crud, links)
    memory = MemoryStore()
    memory.write(WriteBatch(crud=crud, links=links))
    migrated = SqliteStore(directory)
    try:
        expected, got = Shard(memory, None), Shard(migrated, None)
        for address in ADDRESSES:
            assert got.crud(address) == expected.crud(address) == expected_crud(crud, address)
        for link_type, tag, options in queries:
            opts = parse_link_options(options)
            assert got.links(BASE, link_type, tag, opts) == expected.links(BASE, link_type, tag, opts)
            assert got.link_count(BASE, link_type, tag, opts) == expected.link_count(BASE, link_type, tag, opts)
        assert migrated.eav("QmA") == [EavRow("QmA", "crud-status", "rejected", 9), EavRow("QmA", "dht-held", "QmH", 0)]
        assert migrated.eav("links:" + BASE) == []
    finally:
        migrated.close()
    db = sqlite3.connect(directory / DB_FILENAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


# -- walking to the latest version starts from the furthest held version known ---------------------

VERSIONS_ZOME = """
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
def update(address: str, text: str) -> str:
    return hdk.update_entry(Note(text), address)

@zome.function(public=True)
def remove(address: str) -> str:
    return hdk.remove_entry(address)

@zome.function(public=True)
def get(address: str):
    return hdk.get_entry(address)

@zome.function(public=True)
def history(address: str):
    return hdk.get_entry_history(address)
"""


async def _call(instance, function, **args):
    out = instance.call("notes", function, args)
    return cjson.loads(out if isinstance(out, str) else await out)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_the_latest_version_is_found_from_any_version_however_long_the_chain(tmp_path, kind):
    dna = load_dna_file(package(write_project(tmp_path / "dna", {"notes": VERSIONS_ZOME})))
    store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "store")
    instance = Instance("inst", dna, AgentKey.for_test_agent("alice"), "alice", store)
    await instance.initialize()
    instance.start()
    try:
        first = (await _call(instance, "add", text="v0"))["Ok"]
        versions = [first]
        for i in range(1, 30):  # every update names the first version: the walk finds the latest
            versions.append((await _call(instance, "update", address=first, text=f"v{i}"))["Ok"])
            if i % 7 == 0:
                middle = versions[i // 2]
                assert (await _call(instance, "get", address=middle))["Ok"]["App"][1] == f'{{"text":"v{i}"}}'
        assert len(set(versions)) == 30
        for address in (first, versions[10], versions[-1]):
            assert (await _call(instance, "get", address=address))["Ok"]["App"][1] == '{"text":"v29"}'
        history = (await _call(instance, "history", address=first))["Ok"]
        assert [item["meta"]["address"] for item in history["items"]] == versions  # All still walks every one
        # deleting the latest version: from any version, nothing is found any more
        await _call(instance, "remove", address=first)
        for address in (first, versions[10], versions[-1]):
            assert (await _call(instance, "get", address=address))["Ok"] is None
    finally:
        instance.close()


async def test_a_second_update_of_a_version_forgets_the_paths_through_it(tmp_path):
    """The earliest update of a version wins: a new one that is earlier changes the path."""
    store = MemoryStore()
    shard = Shard(store, None)
    store.write(WriteBatch(crud=[CrudFact(a, "live", None, 1) for a in ("QmV0", "QmV1", "QmV2", "QmX")]))
    store.write(WriteBatch(crud=[CrudFact("QmV0", "modified", "QmV1", 10), CrudFact("QmV1", "modified", "QmV2", 20)]))
    shard.remember_newer("QmV0", "QmV2")
    assert shard.newer_version("QmV0") == "QmV2"
    shard._crud_changed("QmV2")  # updating the newest version keeps the path
    assert shard.newer_version("QmV0") == "QmV2"
    shard._crud_changed("QmV1")  # a second update of a version in the middle forgets it
    assert shard.newer_version("QmV0") == "QmV0"
