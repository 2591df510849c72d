"""Properties of the pure DHT rules (hypothesis): addresses, CRUD, links, chain order, keys."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from holochain.core import json as cjson
from holochain.core.crud import VersionRecord, strongest_status, walk_versions
from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp, produce_dht_ops
from holochain.core.entry import Entry
from holochain.core.keys import AgentKeystore, kdf_derive
from holochain.core.links import LinkRow, select_links
from holochain.core.query import compile_type_names
from holochain.instance.chain import SourceChain
from holochain.storage.base import WriteBatch
from holochain.storage.memory_store import MemoryStore

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text())
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20,
)
type_names = st.text(min_size=1, max_size=12).filter(lambda s: not s.startswith("%"))


# -- addresses ----------------------------------------------------------------------------------


@given(type_names, json_values)
def test_app_entry_addresses_are_stable_46_char_multihashes(entry_type, value):
    entry = Entry.app(entry_type, cjson.dumps(value))
    address = entry.address
    assert len(address) == 46 and address.startswith("Qm")
    again = Entry.from_json(cjson.loads(cjson.dumps(entry.value)))  # through the wire and back
    assert again.address == address
    op = DhtOp("Content", entry, _header(entry))
    assert DhtOp.from_json(cjson.loads(cjson.dumps(op.to_json()))).hash == op.hash


def _header(entry: Entry) -> Any:
    from holochain.core.header import ChainHeader

    key = AgentKey.for_test_agent("rules")
    return ChainHeader(
        entry.entry_type,
        entry.address,
        [[key.address, key.sign(entry.address)]],
        None,
        None,
        None,
        "2020-01-01T00:00:00+00:00",
    )


# -- CRUD -----------------------------------------------------------------------------------------

statuses = st.lists(st.sampled_from(["live", "modified", "deleted"]), min_size=1, max_size=6)


@given(statuses, st.randoms())
def test_the_strongest_status_does_not_depend_on_order(values, rnd):
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert strongest_status(values) == strongest_status(shuffled)
    if "deleted" in values:
        assert strongest_status(values) == "deleted"
    elif "modified" in values:
        assert strongest_status(values) == "modified"
    else:
        assert strongest_status(values) == "live"


@given(st.integers(1, 6), st.one_of(st.none(), st.integers(0, 5)), st.sampled_from(["Latest", "Initial", "All"]))
def test_walking_versions(versions, deleted_at, kind):
    """A chain of updates v0→v1→…, optionally with version ``deleted_at`` deleted."""
    if deleted_at is not None and deleted_at >= versions:
        deleted_at = None
    addresses = [f"Qm{i}" for i in range(versions)]
    records = {}
    for i, address in enumerate(addresses):
        last = i == versions - 1
        if deleted_at is not None and i == deleted_at:
            status, link = "deleted", None
        elif deleted_at is not None and i > deleted_at:
            continue  # nothing after a deletion
        else:
            status, link = ("live", None) if last else ("modified", addresses[i + 1])
        records[address] = VersionRecord({"App": ["t", str(i)]}, {"App": "t"}, address, status, link)
    result = walk_versions(records.get, addresses[0], kind, False)["result"]
    walked = [a for a in addresses if a in records]
    if kind == "All":
        assert [item["meta"]["address"] for item in result["All"]["items"]] == walked
        assert result["All"]["crud_links"] == {a: records[a].crud_link for a in walked if records[a].crud_link}
    elif kind == "Initial":
        assert result["Single"]["meta"]["address"] == addresses[0]
    elif deleted_at is not None:
        assert result["Single"] == {"meta": None, "entry": None, "headers": []}
    else:
        assert result["Single"]["meta"]["address"] == addresses[-1]
        assert result["Single"]["meta"]["crud_status"] == "live"


# -- links ------------------------------------------------------------------------------------------

link_actions = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove"]),
        st.sampled_from(["t1", "t2", "t3"]),
        st.sampled_from(["tag", "TAG", "other"]),
    ),
    max_size=25,
)


@given(link_actions)
def test_links_add_and_remove_like_sets(actions):
    """Each add is a distinct link; a removal tombstones every live add of that target and tag."""
    rows: list[LinkRow] = []
    live: dict[str, tuple[str, str]] = {}  # the model: link add address -> (target, tag)
    targets: dict[str, str] = {}
    clock = itertools.count(1)
    for n, (action, target, tag) in enumerate(actions):
        if action == "add":
            address = f"add-{n}"
            rows.append(LinkRow(address, "posts", tag, next(clock)))
            live[address] = (target, tag)
            targets[address] = target
        else:
            matching = [a for a, (t, g) in live.items() if t == target and g.upper() == tag.upper()]
            index = next(clock)
            for a in matching:
                rows.append(LinkRow(a, "posts", live[a][1], index, f"remove-{n}"))
                del live[a]
    selected = select_links(rows, "posts", None, "Live")
    assert {s.link_add for s in selected} == set(live)
    everything = select_links(rows, "posts", None, "All")
    assert len(everything) == len(targets)  # one row per LinkAdd, whatever was removed
    assert [s.index for s in everything] == sorted((s.index for s in everything), reverse=True)
    deleted = select_links(rows, "posts", None, "Deleted")
    assert {s.link_add for s in deleted} == set(targets) - set(live)
    assert all(s.status == "deleted" for s in deleted)
    assert {s.link_add for s in select_links(rows, "posts", "TaG", "All")} == {
        a for a in targets if any(r.link_add == a and r.tag.upper() == "TAG" for r in rows)
    }
    assert select_links(rows, "other-type", None, "All") == []


@given(st.integers(0, 20), st.integers(1, 7))
def test_size_pages_cover_every_link_once(count, page_size):
    rows = [LinkRow(f"add-{i}", "posts", "", i) for i in range(count)]
    pages = []
    number = 0
    while True:
        page = select_links(rows, None, None, "All", {"Size": {"page_number": number, "page_size": page_size}})
        if not page:
            break
        assert len(page) <= page_size
        pages.extend(page)
        number += 1
    assert [p.link_add for p in pages] == [r.link_add for r in reversed(rows)]


# -- chain order --------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["post", "memo", "note"]), min_size=1, max_size=12))
def test_chain_headers_link_in_order(kinds):
    key = AgentKey.for_test_agent("chain-rules")
    store = MemoryStore()
    chain = SourceChain(store, key, "test")
    appended = []
    for i, kind in enumerate(["%dna", *kinds]):
        entry = Entry.dna({"name": "x"}) if kind == "%dna" else Entry.app(kind, cjson.dumps({"i": i}))
        header = chain.new_header(entry)
        batch = WriteBatch()
        chain.append(header, entry, batch)
        store.write(batch)
        appended.append((kind, header))
    headers = [h for _, h in appended]
    assert headers[0].link is None
    for previous, header in zip(headers, headers[1:]):
        assert header.link == previous.address
        assert header.timestamp != previous.timestamp
    last_of: dict[str, str] = {}
    for kind, header in appended:
        assert header.link_same_type == last_of.get(kind)
        last_of[kind] = header.address
    assert [r.header.address for r in chain.records_desc()] == [h.address for h in reversed(headers)]
    reloaded = SourceChain(store, key, "test")
    assert reloaded.load() == len(headers)  # verifies every link and signature
    ops = [op for r in chain.records_asc() for op in produce_dht_ops(r.entry, r.header, public=True, sign=key.sign)]
    assert {op.kind for op in ops} <= {"Content"}
    assert sum(1 for op in ops if op.entry.variant == "ChainHeader") == len(headers)  # every header published


# -- query patterns and keys ---------------------------------------------------------------------------


@given(type_names)
def test_an_exact_query_name_matches_only_itself(name):
    if set("./*[]{}") & set(name):
        return
    matches = compile_type_names(name)
    assert matches(name)
    assert not matches(name + "x")
    assert compile_type_names("**")(name) and compile_type_names([])(name)


@given(
    st.binary(min_size=32, max_size=32),
    st.integers(1, 2**32),
    st.text(min_size=8, max_size=8).filter(lambda s: len(s.encode()) == 8),
)
def test_derived_seeds_are_deterministic_and_distinct_per_index(seed, index, context):
    one = kdf_derive(seed, index, context.encode())
    assert one == kdf_derive(seed, index, context.encode())
    assert one != kdf_derive(seed, index + 1, context.encode())
    assert len(one) == 32


def test_the_primary_key_bundle_derives_from_the_root_seed():
    key = AgentKey.for_test_agent("alice::app")
    keystore = AgentKeystore.for_agent(key)
    assert keystore.list() == ["primary_keybundle:enc_key", "primary_keybundle:sign_key", "root_seed"]
    assert keystore.get_public_key("primary_keybundle:sign_key") == key.address
    assert keystore.get_public_key("primary_keybundle:enc_key").startswith("HcK")
    encrypted = keystore.encryption_key.encrypt("secret")
    assert keystore.encryption_key.decrypt(encrypted) == "secret"
