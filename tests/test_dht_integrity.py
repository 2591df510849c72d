"""Tampered and replayed headers forged by a peer on the memory network."""

from __future__ import annotations

from app_spec_support import app_spec_dna, one  # noqa: F401  (fixtures)
from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp
from holochain.core.entry import Entry
from holochain.core.header import ChainHeader
from test_dht_holding import MALLORY, header_for, hold, post, setup


async def test_a_tampered_header_is_refused(scenario, one):
    """Alice's genuine signature over her header's address does not cover an altered header."""
    _, bob, mallory = await setup(scenario, one)
    alice = AgentKey.for_test_agent("alice::app")
    entry = post("alice wrote this")
    genuine = header_for(entry, alice)
    signature_over_header = alice.sign(genuine.address)
    tampered = ChainHeader(
        genuine.entry_type,
        genuine.entry_address,
        genuine.provenances,
        genuine.link,
        genuine.link_same_type,
        genuine.link_update_delete,
        "2001-01-01T00:00:00+00:00",
    )
    wrapped = ChainHeader(
        "ChainHeader", tampered.address, [[alice.address, signature_over_header]], None, None, None, tampered.timestamp
    )
    [[_, status]] = await hold(mallory, bob, DhtOp("Content", Entry.chain_header(tampered.to_json()), wrapped))
    assert status.startswith("rejected: Signature of entry") and status.endswith("invalid")
    assert bob.instance("app").store.get_content(tampered.address) is None


async def test_a_replayed_op_is_held_once(scenario, one):
    _, bob, mallory = await setup(scenario, one)
    entry = post("said once, sent thrice")
    op = DhtOp("Content", entry, header_for(entry))
    for _ in range(3):
        [[_, status]] = await hold(mallory, bob, op)
        assert status == "held"
    assert len(bob.instance("app").store.held_headers(entry.address)) == 1
    record = bob.instance("app").shard.record(entry.address)
    assert len(record.headers) == 1 and record.headers[0]["provenances"][0][0] == MALLORY.address
