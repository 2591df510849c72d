"""Holders: what they accept, what they refuse, and what waits for its dependencies.

A test peer ("mallory") joins the scenario's network with its own key and
sends holders ops and envelopes directly — forged ones included.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app_spec_support import app_spec_dna, one  # noqa: F401  (fixtures)
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp
from holochain.core.entry import Entry
from holochain.core.header import ChainHeader
from holochain.core.links import link_data_json, link_json
from holochain.core.time import format_ns, system_clock
from holochain.net import NetworkError
from holochain.net.wire import seal_envelope


class Peer:
    """A bare peer: answers nothing, holds nothing; used to send ops and envelopes."""

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        return [[DhtOp.from_json(op).hash, "rejected: this peer holds nothing"] for op in ops]

    def answer_entry(self, address: str) -> None:
        return None

    def answer_links(self, base: str, query: dict) -> None:
        return None

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str:
        return ""

    def validation_package(self, header_address: str) -> None:
        return None

    def held_items(self) -> list[tuple[str, str, str]]:
        return []

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        return [], start

    def ops(self, op_hashes: list[str]) -> dict[str, Any]:
        return {}

    def has_op(self, op_hash: str) -> bool:
        return False

    def peers_changed(self) -> None:
        pass


MALLORY = AgentKey.for_test_agent("mallory")


def post(content: str) -> Entry:
    return Entry.app("post", cjson.dumps({"content": content, "date_created": "now"}))


def header_for(entry: Entry, key: AgentKey = MALLORY, signature: str | None = None, **fields) -> ChainHeader:
    return ChainHeader(
        entry.entry_type,
        fields.get("entry_address", entry.address),
        [[key.address, signature if signature is not None else key.sign(entry.address)]],
        fields.get("link"),
        None,
        fields.get("link_update_delete"),
        format_ns(system_clock()),
    )


async def setup(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    bob = players["bob"]
    space = bob.instance("app").dna_address
    mallory = await scenario.network.join(space, MALLORY, Peer())
    return players["alice"], bob, mallory


async def hold(mallory, bob, *ops: DhtOp) -> list[list[str]]:
    reply = await mallory.request(bob.info("app").agent_address, "hold", {"ops": [op.to_json() for op in ops]}, 5)
    return reply["results"]


async def test_a_forged_envelope_is_refused(scenario, one):
    alice, bob, mallory = await setup(scenario, one)
    entry = post("forged")
    op = DhtOp("Content", entry, header_for(entry))
    # signed by mallory, claiming to come from alice
    forged = seal_envelope(MALLORY, mallory.space, bob.info("app").agent_address, "hold", {"ops": [op.to_json()]})
    envelope = cjson.loads(forged)
    envelope["from"] = alice.info("app").agent_address
    reply = await scenario.network.switchboard.request(
        mallory.space, alice.info("app").agent_address, bob.info("app").agent_address, cjson.dumps_bytes(envelope), 5
    )
    assert b"message signature does not verify" in reply
    # nor may an envelope claim another sender than the one the transport saw
    reply = await scenario.network.switchboard.request(
        mallory.space, "HcSsomeoneelse", bob.info("app").agent_address, forged, 5
    )
    assert b"but came from HcSsomeoneelse" in reply
    await scenario.consistency()
    assert bob.instance("app").store.get_content(entry.address) is None


async def test_an_entry_with_a_bad_signature_is_refused(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    entry = post("signed by someone else")
    alice_key = AgentKey.for_test_agent("alice::app")
    op = DhtOp("Content", entry, header_for(entry, alice_key, signature=MALLORY.sign(entry.address)))
    [[_, status]] = await hold(mallory, bob, op)
    assert status == f"rejected: Signature of entry {entry.address} from author {alice_key.address} invalid"
    undecodable = DhtOp("Content", entry, header_for(entry, signature="!!"))
    [[_, status]] = await hold(mallory, bob, undecodable)
    assert status.endswith("failed to verify public signing key. Key might be invalid.")
    assert bob.instance("app").store.get_content(entry.address) is None


async def test_an_entry_that_does_not_match_its_header_is_refused(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    entry = post("one")
    other = post("two")
    [[_, status]] = await hold(mallory, bob, DhtOp("Content", entry, header_for(other)))
    assert status == "rejected: Wrong header for entry"
    assert bob.instance("app").store.get_content(entry.address) is None


async def test_private_and_never_published_entries_are_refused(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    memo = Entry.app("memo", cjson.dumps({"content": "secret", "date_created": "now"}))
    grant = Entry.cap_token_grant("g", None, {"blog": ["create_post"]})
    results = await hold(
        mallory, bob, DhtOp("Content", memo, header_for(memo)), DhtOp("Content", grant, header_for(grant))
    )
    assert results[0][1] == "rejected: The requested entry is private and should not be shared via gossip"
    assert results[1][1] == "rejected: CapTokenGrant entries are never published"
    assert bob.instance("app").store.get_content(memo.address) is None


async def test_malformed_ops_are_refused_and_the_holder_keeps_serving(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    reply = await mallory.request(
        bob.info("app").agent_address, "hold", {"ops": [{"Content": "nonsense"}, {"Teleport": []}, 42]}, 5
    )
    statuses = [status for _, status in reply["results"]]
    assert statuses[0] == "rejected: a Content op is [entry or link data, header]"
    assert statuses[1] == "rejected: unknown DHT op kind 'Teleport'"
    assert statuses[2].startswith("rejected: a DHT op is an object")
    with pytest.raises(NetworkError, match="malformed hold"):
        await mallory.request(bob.info("app").agent_address, "hold", {"opz": []}, 5)
    entry = post("still serving")
    [[_, status]] = await hold(mallory, bob, DhtOp("Content", entry, header_for(entry)))
    assert status == "held"


async def test_holders_run_app_validation(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    too_long = post("x" * 300)
    [[_, status]] = await hold(mallory, bob, DhtOp("Content", too_long, header_for(too_long)))
    assert status == "rejected: Content too long"
    assert bob.instance("app").store.get_content(too_long.address) is None
    fine = post("a valid post by mallory")
    [[op_hash, status]] = await hold(mallory, bob, DhtOp("Content", fine, header_for(fine)))
    assert status == "held"
    assert bob.instance("app").shard.record(fine.address).headers[0]["provenances"][0][0] == MALLORY.address
    # sent again: already held, answered at once
    assert await hold(mallory, bob, DhtOp("Content", fine, header_for(fine))) != []


async def test_a_header_entry_must_be_signed_by_the_headers_author(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    alice_key = AgentKey.for_test_agent("alice::app")
    entry = post("p")
    header = header_for(entry, alice_key)  # a genuine header by alice…
    header_entry = Entry.chain_header(header.to_json())
    wrapped = ChainHeader(
        "ChainHeader",
        header.address,
        [[MALLORY.address, MALLORY.sign(header.address)]],
        None,
        None,
        None,
        header.timestamp,
    )  # …republished as mallory's
    [[_, status]] = await hold(mallory, bob, DhtOp("Content", header_entry, wrapped))
    assert status == "rejected: A header is published by its own author"


async def test_ops_wait_for_their_dependencies_and_consistency_waits_for_them(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    agent = Entry.agent_id("mallory", MALLORY.address)
    target = post("mallory's post")
    link_data = link_data_json(
        "ADD",
        link_json(MALLORY.address, target.address, "authored_posts", ""),
        header_for(target).to_json(),
        {"nick": "mallory", "pub_sign_key": MALLORY.address},
    )
    link_entry = Entry({"LinkAdd": link_data})
    link_op = DhtOp("LinkAdd", link_entry, header_for(link_entry))
    # the link arrives first: its base (mallory's agent entry) is not held yet
    first = mallory.publish([link_op.to_json()], [link_op.basis])
    await asyncio.sleep(0.05)
    assert not first.done()  # waiting for bob's receipt
    assert bob.instance("app").node.busy  # bob holds it as pending work: consistency is not reached
    with pytest.raises(TimeoutError, match="pending holds"):
        await scenario.network.settled(timeout=0.2)
    # now the base and target arrive: the link becomes held, bob sends the receipt
    ops = [DhtOp("Content", agent, header_for(agent)), DhtOp("Content", target, header_for(target))]
    await asyncio.gather(mallory.publish([o.to_json() for o in ops], [o.basis for o in ops]), first)
    await scenario.consistency()
    links = bob.instance("app").shard.links(
        MALLORY.address, "authored_posts", None, {"status_request": "Live", "headers": False, "pagination": None}
    )
    assert [l["address"] for l in links] == [target.address]


async def test_a_deletion_needs_a_live_entry(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    entry = post("to be deleted")
    await hold(mallory, bob, DhtOp("Content", entry, header_for(entry)))
    deletion = Entry.deletion(entry.address)
    header = header_for(deletion, link_update_delete=entry.address)
    results = await hold(mallory, bob, DhtOp("Content", deletion, header), DhtOp("Deletion", deletion, header))
    assert [s for _, s in results] == ["held", "held"]
    assert bob.instance("app").shard.crud(entry.address)[0] == "deleted"
    again = Entry.deletion(entry.address)
    second = header_for(again, link_update_delete=entry.address)
    [[_, status]] = await hold(
        mallory,
        bob,
        DhtOp(
            "Deletion",
            again,
            ChainHeader(
                second.entry_type,
                second.entry_address,
                second.provenances,
                None,
                None,
                entry.address,
                format_ns(system_clock() + 1000),
            ),
        ),
    )
    assert status == f"rejected: cannot delete {entry.address}: its status is deleted"
