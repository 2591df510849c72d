"""The HDK's link helpers: loading linked entries, results per link, typed loads."""

from __future__ import annotations

import pytest

from conftest import package, write_project
from holochain.testing import DnaSpec, PlayerConfig

LINKS_ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome()


@zome.entry_type("thing", description="a thing", linked_from=[("%agent_id", "owns")])
@dataclass
class Thing:
    name: str


public = zome.function(public=True)


@public
def own(name: str) -> str:
    address = hdk.commit_entry(Thing(name))
    hdk.link_entries(hdk.AGENT_ADDRESS, address, "owns", name)
    return address


@public
def drop(address: str) -> str:
    return hdk.remove_entry(address)


@public
def loaded() -> list:
    out = []
    for item in hdk.get_links_and_load(hdk.AGENT_ADDRESS, "owns", None):
        out.append({"error": item.to_json()} if isinstance(item, hdk.ZomeApiError) else item.to_json())
    return out


@public
def typed() -> list:
    return sorted(t.name for t in hdk.get_links_and_load_type(hdk.AGENT_ADDRESS, "owns", None, Thing))


@public
def results() -> list:
    out = []
    for item in hdk.get_links_result(hdk.AGENT_ADDRESS, "owns", None, hdk.GetLinksOptions(),
                                     hdk.GetEntryOptions(status_request="Initial")):
        out.append(item["result"]["Single"]["meta"]["crud_status"])
    return out


@public
def count() -> dict:
    return hdk.get_links_count(hdk.AGENT_ADDRESS, "owns")


@public
def since(from_time: str, sort_order: str | None = None) -> list:
    options = hdk.GetLinksOptions(pagination=hdk.TimePagination(from_time=from_time, limit=10), headers=True,
                                  sort_order=sort_order)
    return [(l["tag"], l["headers"][0]["timestamp"]) for l in hdk.get_links_with_options(hdk.AGENT_ADDRESS, "owns", None, options)["links"]]
"""


@pytest.fixture(scope="module")
def links_dna(tmp_path_factory):
    return package(write_project(tmp_path_factory.mktemp("links"), {"links": LINKS_ZOME}))


async def test_loading_linked_entries(scenario, links_dna):
    alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(links_dna)}))

    async def call(fn, **args):
        result = await alice.call("app", "links", fn, args)
        return result["Ok"]

    first = await call("own", name="first")
    await call("own", name="second")
    assert await call("typed") == ["first", "second"]
    assert await call("count") == {"count": 2}
    await call("drop", address=first)
    loaded = await call("loaded")
    assert {"App": ["thing", '{"name":"second"}']} in loaded
    assert {"error": {"Internal": "Entry is None so most likely has been marked as deleted"}} in loaded
    assert await call("typed") == ["second"]  # what does not load is left out
    assert sorted(await call("results")) == ["deleted", "live"]


async def test_time_pagination_with_iso_8601_text(scenario, links_dna):
    alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(links_dna)}))
    await alice.call("app", "links", "own", {"name": "early"})
    early = (await alice.call("app", "links", "since", {"from_time": "1970-01-01T00:00:00+00:00"}))["Ok"]
    assert [tag for tag, _ in early] == ["early"]
    stamp = early[0][1]
    await alice.call("app", "links", "own", {"name": "late"})
    ascending = (await alice.call("app", "links", "since", {"from_time": stamp, "sort_order": "Ascending"}))["Ok"]
    assert [tag for tag, _ in ascending] == ["late"]  # links not newer than from_time are skipped
    # holochain-rust skips only *while* links are not newer: newest first, nothing is skipped
    descending = (await alice.call("app", "links", "since", {"from_time": stamp}))["Ok"]
    assert [tag for tag, _ in descending] == ["late", "early"]
    bad = await alice.call("app", "links", "since", {"from_time": "yesterday"})
    assert bad == {"Err": {"Internal": "Argument deserialization failed"}}
