"""Validation at holders: packages fetched from the author or rebuilt from the DHT, agents refused."""

from __future__ import annotations

import json

import pytest

from app_spec_support import app_spec_dna, one  # noqa: F401  (fixtures)
from conftest import package, write_project
from holochain.testing import DnaSpec, PlayerConfig

CHAIN_ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome()


@zome.entry_type("counted", description="needs its author's chain", validation_package="ChainFull")
@dataclass
class Counted:
    n: int


@zome.entry_type("note", description="a public note")
@dataclass
class Note:
    text: str


@zome.validate("counted")
def validate_counted(v: hdk.EntryValidation) -> None:
    headers = v.validation_data.package["source_chain_headers"]
    entries = v.validation_data.package["source_chain_entries"]
    notes = [e for e in entries if e.get("App", [None])[0] == "note"]
    # the author must have written n notes before: checked from its chain, wherever this runs
    if len(notes) < v.entry.n:
        raise hdk.ValidationError(f"{v.validation_data.lifecycle}: {len(notes)} notes < {v.entry.n}")
    if any(h["entry_type"] == "Dna" for h in headers) is False:
        raise hdk.ValidationError("the package lacks the chain's first header")


@zome.entry_type("stamped", description="a custom package", validation_package={"Custom": "stamp-1"})
@dataclass
class Stamped:
    stamp: str


@zome.validate("stamped")
def validate_stamped(v: hdk.EntryValidation) -> None:
    package = v.validation_data.package
    if package["custom"] != v.entry.stamp or package["source_chain_headers"] is not None:
        raise hdk.ValidationError(f"wrong stamp {v.entry.stamp}")
    if v.validation_data.sources() != [hdk.AGENT_ADDRESS] and v.validation_data.lifecycle == "Chain":
        raise hdk.ValidationError("sources are the author")


@zome.function(public=True)
def stamped(stamp: str) -> str:
    return hdk.commit_entry(Stamped(stamp))


@zome.validate("note")
def validate_note(v: hdk.EntryValidation) -> None:
    if v.action == "create" and v.validation_data.lifecycle != "Chain" and v.entry.text == "holders refuse":
        raise hdk.ValidationError("not at holders")


@zome.function(public=True)
def note(text: str) -> str:
    return hdk.commit_entry(Note(text))


@zome.function(public=True)
def counted(n: int) -> str:
    return hdk.commit_entry(Counted(n))


@zome.function(public=True)
def get(address: str):
    return hdk.get_entry(address)
"""


@pytest.fixture(scope="module")
def chain_dna(tmp_path_factory):
    return package(write_project(tmp_path_factory.mktemp("chain"), {"chain": CHAIN_ZOME}))


async def test_a_holder_validates_with_the_authors_package(scenario, chain_dna):
    config = PlayerConfig({"app": DnaSpec(chain_dna)})
    players = await scenario.players({"alice": config, "bob": config})
    alice, bob = players["alice"], players["bob"]
    for i in range(2):
        await alice.call("app", "chain", "note", {"text": f"note {i}"})
    refused = await alice.call("app", "chain", "counted", {"n": 3})
    assert json.loads(refused["Err"]["Internal"])["kind"] == {"ValidationFailed": "Chain: 2 notes < 3"}
    address = (await alice.call("app", "chain", "counted", {"n": 2}))["Ok"]
    await scenario.consistency()
    assert bob.instance("app").shard.record(address) is not None  # held: validated with alice's package

    # alice leaves; carol must rebuild alice's package from the headers and notes held on the DHT
    await alice.kill()
    carol = await scenario.player("carol", config)
    await scenario.consistency()
    assert carol.instance("app").shard.record(address) is not None
    await bob.kill()
    got = await carol.call("app", "chain", "get", {"address": address})
    assert got == {"Ok": {"App": ["counted", '{"n":2}']}}


async def test_an_entry_holders_refuse_is_seen_only_by_its_author(scenario, chain_dna):
    """The author keeps what it committed, but peers get only what holders validated:
    the author itself serves its data only once it validated it as a holder."""
    config = PlayerConfig({"app": DnaSpec(chain_dna)})
    players = await scenario.players({"alice": config, "bob": config})
    alice, bob = players["alice"], players["bob"]
    address = (await alice.call("app", "chain", "note", {"text": "holders refuse"}))["Ok"]
    await scenario.consistency()
    assert bob.instance("app").shard.record(address) is None
    assert (await alice.call("app", "chain", "get", {"address": address}))["Ok"]  # the author holds it
    assert (await bob.call("app", "chain", "get", {"address": address})) == {"Ok": None}
    # an ordinary note is served, by any holder
    fine = (await alice.call("app", "chain", "note", {"text": "fine"}))["Ok"]
    await scenario.consistency()
    await alice.kill()
    assert (await bob.call("app", "chain", "get", {"address": fine}))["Ok"]


async def test_an_agent_refused_by_validate_agent_is_invisible(scenario, one):
    """app_spec ``validate-agent-test.js`` (not registered in its index.js)."""
    players = await scenario.players({"valid_agent": one, "reject_agent": one})
    valid, reject = players["valid_agent"], players["reject_agent"]
    own = await valid.call("app", "simple", "get_entry", {"address": valid.info("app").agent_address})
    assert own["Ok"] == {"AgentId": {"nick": "valid_agent::app", "pub_sign_key": valid.info("app").agent_address}}
    other = await valid.call("app", "simple", "get_entry", {"address": reject.info("app").agent_address})
    assert other == {"Ok": None}
    # the rejected agent's own view is unchanged
    assert (await reject.call("app", "simple", "get_entry", {"address": reject.info("app").agent_address}))["Ok"]


async def test_a_custom_validation_package(scenario, chain_dna):
    config = PlayerConfig({"app": DnaSpec(chain_dna)})
    players = await scenario.players({"alice": config, "bob": config})
    alice, bob = players["alice"], players["bob"]
    refused = await alice.call("app", "chain", "stamped", {"stamp": "stamp-2"})
    assert json.loads(refused["Err"]["Internal"])["kind"] == {"ValidationFailed": "wrong stamp stamp-2"}
    address = (await alice.call("app", "chain", "stamped", {"stamp": "stamp-1"}))["Ok"]
    await scenario.consistency()
    assert bob.instance("app").shard.record(address) is not None
