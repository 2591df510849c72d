"""The zome API's refusals: each bad input answered with holochain-rust's error, nothing half-written."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import package, write_project
from holochain.core.crypto import verify
from holochain.testing import DnaSpec, PlayerConfig

API_ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome(description="exercises the zome API")


@zome.entry_type("thing", description="a thing", links_to=[("thing", "related")],
                 linked_from=[("%agent_id", "owns")])
@dataclass
class Thing:
    name: str


@zome.entry_type("other", description="something else")
@dataclass
class Other:
    name: str


@zome.validate_link("related")
def validate_related(link: hdk.LinkValidation) -> None:
    if link.tag == "bad":
        raise hdk.ValidationError("bad tag")


public = zome.function(public=True)


@public
def commit_thing(name: str) -> str:
    return hdk.commit_entry(Thing(name))


@public
def commit_other(name: str) -> str:
    return hdk.commit_entry(Other(name))


@public
def commit_raw(entry_type: str, value: dict) -> str:
    return hdk.commit_entry(hdk.app_entry(entry_type, value))


@public
def commit_system(value: dict) -> str:
    return hdk.commit_entry(hdk.Entry(value))


@public
def address_of(entry_type: str, value: dict) -> str:
    return hdk.entry_address(hdk.app_entry(entry_type, value))


@public
def link(base: str, target: str, link_type: str, tag: str) -> str:
    return hdk.link_entries(base, target, link_type, tag)


@public
def update(address: str, name: str) -> str:
    return hdk.update_entry(Thing(name), address)


@public
def remove(address: str) -> str:
    return hdk.remove_entry(address)


@public
def get_result(address: str, options: dict):
    return hdk.current_host().get_entry_result(address, options)


@public
def query(names, start: int = 0, limit: int = 0, headers: bool = False, entries: bool = False):
    return hdk.query_result(names, start, limit, headers=headers, entries=entries)


@public
def grant(grant_id: str, cap_type: str, assignees, functions: dict) -> str:
    return hdk.commit_capability_grant(grant_id, cap_type, assignees, functions)


@zome.function(raw=True, public=True)
def call_secret():
    return hdk.call(hdk.THIS_INSTANCE, "api", hdk.PUBLIC_TOKEN, "secret", {})


@zome.function(public=True, raw=True)
def recurse(n: int):
    return hdk.call(hdk.THIS_INSTANCE, "api", hdk.PUBLIC_TOKEN, "recurse", {"n": n})


@zome.function
def secret() -> str:
    return "only with a grant"


@public
def nap(seconds: float) -> str:
    hdk.sleep(seconds)
    return "rested"


@public
def quick() -> str:
    return "quick"


@public
def sign_once(payloads: list) -> dict:
    return hdk.sign_one_time(payloads)


@public
def agent_update() -> str:
    return hdk.update_agent()


@public
def bundle() -> None:
    hdk.start_bundle()


@public
def type_properties(entry_type: str) -> str:
    return hdk.entry_type_properties(entry_type)


@public
def prop(name: str):
    return hdk.property(name)


@public
def versions() -> list:
    return [hdk.version(), hdk.version_hash()]


@public
def enc_key() -> str:
    return hdk.keystore_derive_key("root_seed", "my_enc_key", "Encrypting")
"""


@pytest.fixture(scope="module")
def api_dna(tmp_path_factory):
    return package(write_project(tmp_path_factory.mktemp("api"), {"api": API_ZOME}))


@pytest.fixture
async def alice(scenario, api_dna):
    return await scenario.player("alice", PlayerConfig({"app": DnaSpec(api_dna)}))


def kind(result):
    return json.loads(result["Err"]["Internal"])["kind"]


async def call(player, fn, **args):
    return await player.call("app", "api", fn, args)


def length(player):
    return player.instance("app").chain.length


async def test_unknown_entry_type_is_refused(alice):
    before = length(alice)
    assert kind(await call(alice, "commit_raw", entry_type="nonexistent", value={"x": 1})) == {
        "ValidationFailed": "Unknown app entry type 'nonexistent'"
    }
    assert await call(alice, "address_of", entry_type="nonexistent", value={"x": 1}) == {
        "Err": {"Internal": "Unknown entry type"}
    }
    assert length(alice) == before


async def test_malformed_and_uncommittable_system_entries_are_refused(alice):
    before = length(alice)
    assert await call(alice, "commit_system", value={"LinkAdd": {"no": "link"}}) == {
        "Err": {"Internal": "Argument deserialization failed"}
    }
    assert await call(alice, "commit_system", value={"Deletion": {}}) == {
        "Err": {"Internal": "Argument deserialization failed"}
    }
    assert kind(await call(alice, "commit_system", value={"Dna": {"name": "x"}})) == {
        "ValidationFailed": "Attempted to validate system entry type Dna"
    }
    assert length(alice) == before


async def test_entries_that_do_not_fit_their_type_are_refused(alice):
    before = length(alice)
    result = await call(alice, "commit_raw", entry_type="thing", value={"nom": 1})
    assert kind(result) == {"ValidationFailed": 'Could not convert Entry result to requested type : {"nom":1}'}
    assert length(alice) == before


async def test_oversized_entries_are_refused(alice):
    before = length(alice)
    result = await call(alice, "commit_thing", name="x" * (1024 * 1024))
    assert "larger than the 1048576 bytes" in kind(result)["ValidationFailed"]
    assert length(alice) == before


async def test_links_need_an_existing_base_and_target(alice):
    thing = (await call(alice, "commit_thing", name="a"))["Ok"]
    before = length(alice)
    missing = "QmNotHereNotHereNotHereNotHereNotHereNotHere12"
    base_missing = kind(await call(alice, "link", base=missing, target=thing, link_type="related", tag=""))
    assert base_missing == {
        "ErrorGeneric": f'Base for link not found: Link {{ base: HashString("{missing}"), '
        f'target: HashString("{thing}"), link_type: "related", tag: "" }}'
    }
    target_missing = kind(await call(alice, "link", base=thing, target=missing, link_type="related", tag='say "hi"'))
    assert target_missing == {
        "ErrorGeneric": f'Target for link not found: Link {{ base: HashString("{thing}"), '
        f'target: HashString("{missing}"), link_type: "related", '
        'tag: "say \\"hi\\"" }'
    }
    assert length(alice) == before


async def test_links_must_join_the_types_they_are_defined_for(alice):
    thing = (await call(alice, "commit_thing", name="a"))["Ok"]
    other = (await call(alice, "commit_other", name="b"))["Ok"]
    before = length(alice)
    assert kind(await call(alice, "link", base=other, target=thing, link_type="related", tag="")) == {
        "ValidationFailed": "Wrong base type for link of type 'related'. Found 'thing', but link is defined "
        "to link from 'other's."
    }
    assert kind(await call(alice, "link", base=thing, target=other, link_type="related", tag="")) == {
        "ValidationFailed": "Wrong target type for link of type 'related'. Found 'thing', but link is defined "
        "to link to 'other's."
    }
    assert kind(await call(alice, "link", base=thing, target=thing, link_type="unheard-of", tag="")) == {
        "ErrorGeneric": "Unknown entry type"
    }
    assert kind(await call(alice, "link", base=thing, target=thing, link_type="related", tag="bad")) == {
        "ValidationFailed": "bad tag"
    }
    assert length(alice) == before
    assert (await call(alice, "link", base=thing, target=thing, link_type="related", tag="fine"))["Ok"]


async def test_updates_and_removals_of_missing_entries(alice):
    before = length(alice)
    assert await call(alice, "update", address="1234", name="x") == {"Err": {"Internal": "Entry Could Not Be Found"}}
    assert await call(alice, "remove", address="1234") == {"Err": {"Internal": "Entry Could Not Be Found"}}
    assert length(alice) == before
    thing = (await call(alice, "commit_thing", name="a"))["Ok"]
    assert (await call(alice, "remove", address=thing))["Ok"]
    after_remove = length(alice)
    # already deleted: nothing to remove or update any more
    assert await call(alice, "remove", address=thing) == {"Err": {"Internal": "Entry Could Not Be Found"}}
    assert await call(alice, "update", address=thing, name="b") == {"Err": {"Internal": "Entry Could Not Be Found"}}
    assert length(alice) == after_remove


async def test_bad_get_options_are_argument_errors(alice):
    result = await call(alice, "get_result", address="x", options={"status_request": "Sometimes"})
    assert result == {"Err": {"Internal": "Argument deserialization failed"}}


async def test_query_patterns_and_options(alice):
    for name in ("a", "b", "c"):
        await call(alice, "commit_thing", name=name)
    await call(alice, "commit_other", name="o")
    chain = alice.instance("app").chain
    things = [r.entry.address for r in chain.records_desc() if r.entry.type_name == "thing"]
    assert (await call(alice, "query", names="thing"))["Ok"] == {"Addresses": things}
    assert (await call(alice, "query", names="thing", start=1, limit=1))["Ok"] == {"Addresses": things[1:2]}
    everything = (await call(alice, "query", names="**"))["Ok"]["Addresses"]
    assert len(everything) == chain.length
    assert (await call(alice, "query", names=[]))["Ok"]["Addresses"] == everything
    assert (await call(alice, "query", names=["{thing,other}"]))["Ok"]["Addresses"][0] == chain.head.entry_address
    system = (await call(alice, "query", names="%*"))["Ok"]["Addresses"]
    assert len(system) == 3  # dna, agent id, public grant
    entries = (await call(alice, "query", names="**", entries=True))["Ok"]["Entries"]
    assert len(entries) == chain.length - 1  # the DNA is left out
    with_headers = (await call(alice, "query", names="other", headers=True, entries=True))["Ok"]["HeadersWithEntries"]
    assert with_headers[0][1] == {"App": ["other", '{"name":"o"}']}
    assert with_headers[0][0]["entry_address"] == chain.head.entry_address
    assert await call(alice, "query", names="[") == {"Err": {"Internal": "Unknown entry type"}}
    assert await call(alice, "query", names="%nonsense") == {"Err": {"Internal": "Unknown entry type"}}


async def test_capability_grant_rules(alice):
    assert kind(await call(alice, "grant", grant_id="g", cap_type="public", assignees=["HcSx"], functions={})) == {
        "ErrorGeneric": "Unable to commit capability grant: there must be no assignees for public or transferable grants"
    }
    assert kind(await call(alice, "grant", grant_id="g", cap_type="assigned", assignees=None, functions={})) == {
        "ErrorGeneric": "Unable to commit capability grant: Assigned grant must have 1 or more assignees"
    }
    token = (
        await call(alice, "grant", grant_id="t", cap_type="transferable", assignees=None, functions={"api": ["secret"]})
    )["Ok"]
    assert alice.instance("app").chain.grants[token] == {"id": "t", "assignees": [], "functions": {"api": ["secret"]}}


async def test_calls_need_a_capability_and_may_not_recurse(alice):
    secret = await call(alice, "call_secret")
    assert kind(secret) == "CapabilityCheckFailed"
    assert await call(alice, "recurse", n=1) == {"Err": {"Internal": "Recursive call forbidden"}}


async def test_sleep_suspends_only_its_own_call(alice):
    order = []

    async def slow():
        assert await call(alice, "nap", seconds=0.2) == {"Ok": "rested"}
        order.append("slow")

    async def fast():
        assert await call(alice, "quick") == {"Ok": "quick"}
        order.append("fast")

    await asyncio.gather(slow(), fast())
    assert order == ["fast", "slow"]
    assert await call(alice, "nap", seconds=-1) == {"Err": {"Internal": "Argument deserialization failed"}}


async def test_sign_one_time(alice):
    result = (await call(alice, "sign_once", payloads=["a", "b"]))["Ok"]
    assert result["pub_key"] != alice.info("app").agent_address
    assert [verify(result["pub_key"], s, p) for s, p in zip(result["signatures"], ["a", "b"])] == [True, True]


async def test_not_implemented_functions(alice):
    assert await call(alice, "agent_update") == {"Err": "FunctionNotImplemented"}
    assert await call(alice, "bundle") == {"Err": "FunctionNotImplemented"}


async def test_misc_lookups(alice):
    assert await call(alice, "type_properties", entry_type="thing") == {"Ok": "a thing"}
    assert await call(alice, "type_properties", entry_type="nope") == {
        "Err": {"Internal": "No matching entry type in this zome"}
    }
    assert await call(alice, "prop", name="nope") == {"Err": {"Internal": "field does not exist in DNA properties"}}
    assert (await call(alice, "versions"))["Ok"][0] == "0.0.52-alpha2"
    enc = (await call(alice, "enc_key"))["Ok"]
    assert enc.startswith("HcK")
