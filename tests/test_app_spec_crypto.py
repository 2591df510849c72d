"""app_spec ``test/files/crypto.js``: signatures, encryption, the keystore, grants and claims."""

from __future__ import annotations

import json

import pytest

from app_spec_support import BOB, HOLO_WORLD_POST, app_spec_dna_both, one  # noqa: F401  (fixtures)
from holochain.core.crypto import AgentKey, encode_call_data_for_signing
from holochain.instance.instance import InstanceError

MESSAGE = "Hello everyone! Time to start the secret meeting"
# holochain-rust's historical app_spec assertion: bob::app signing MESSAGE
BOB_SIGNATURE = "N4wF/U1By7TA4H3k9i+5r8IGYzRMTi59mr/XZOpz8Ydj85mbupUk6tHMf/owgjJo43Vu1lja7ZFKGOFQnpa0Bw=="


async def test_sign_and_verify_message(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    signed = await bob.call("app", "converse", "sign_message", {"key_id": "", "message": MESSAGE})
    assert signed == {"Ok": BOB_SIGNATURE}
    provenance = [bob.info("app").agent_address, signed["Ok"]]
    assert await alice.call("app", "converse", "verify_message", {"message": MESSAGE, "provenance": provenance}) == {
        "Ok": True
    }
    tampered = await alice.call(
        "app", "converse", "verify_message", {"message": MESSAGE + "!", "provenance": provenance}
    )
    assert tampered == {"Ok": False}


async def test_verify_with_an_undecodable_signature_is_an_error(scenario, one):
    alice = await scenario.player("alice", one)
    result = await alice.call(
        "app",
        "converse",
        "verify_message",
        {"message": MESSAGE, "provenance": [alice.info("app").agent_address, "not base64!"]},
    )
    assert json.loads(result["Err"]["Internal"])["kind"] == {"ErrorGeneric": "Signature syntactically invalid"}


async def test_encrypt_and_decrypt_message(scenario, one):
    """Encryption uses the agent's own key: the encrypter decrypts, another agent cannot.

    app_spec's scenario has bob encrypt and alice decrypt, expecting the
    message; that cannot work with per-agent keys (holochain-rust ignored the
    AEAD failure and returned a zeroed buffer).  Here the round trip is the
    encrypter's, and the other agent gets an error that says why.
    """
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    encrypted = (await bob.call("app", "simple", "encrypt", {"payload": MESSAGE}))["Ok"]
    assert encrypted != MESSAGE
    assert await bob.call("app", "simple", "decrypt", {"payload": encrypted}) == {"Ok": MESSAGE}
    refused = await alice.call("app", "simple", "decrypt", {"payload": encrypted})
    assert "decryption failed" in json.loads(refused["Err"]["Internal"])["kind"]["ErrorGeneric"]


async def test_secrets(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "converse", "list_secrets", {}) == {
        "Ok": ["app_root_seed", "primary_keybundle:enc_key", "primary_keybundle:sign_key", "root_seed"]
    }
    assert "Ok" in await alice.call(
        "app", "converse", "add_seed", {"src_id": "app_root_seed", "dst_id": "app_seed:1", "index": 1}
    )
    added = await alice.call("app", "converse", "add_key", {"src_id": "app_seed:1", "dst_id": "app_key:1"})
    assert added["Ok"].startswith("HcS")
    assert await alice.call("app", "converse", "list_secrets", {}) == {
        "Ok": [
            "app_key:1",
            "app_root_seed",
            "app_seed:1",
            "primary_keybundle:enc_key",
            "primary_keybundle:sign_key",
            "root_seed",
        ]
    }
    signed = await alice.call("app", "converse", "sign_message", {"key_id": "app_key:1", "message": MESSAGE})
    assert await alice.call(
        "app", "converse", "verify_message", {"message": MESSAGE, "provenance": [added["Ok"], signed["Ok"]]}
    ) == {"Ok": True}
    assert await alice.call(
        "app",
        "converse",
        "verify_message",
        {"message": MESSAGE, "provenance": [alice.info("app").agent_address, signed["Ok"]]},
    ) == {"Ok": False}
    assert await alice.call("app", "converse", "get_pubkey", {"src_id": "app_key:1"}) == added


async def test_keystore_refusals_are_callback_failed(scenario, one):
    alice = await scenario.player("alice", one)
    for args in (
        {"src_id": "app_root_seed", "dst_id": "root_seed", "index": 1},  # exists
        {"src_id": "nope", "dst_id": "x", "index": 1},  # unknown source
        {"src_id": "app_root_seed", "dst_id": "y", "index": 0},
    ):  # invalid index
        assert await alice.call("app", "converse", "add_seed", args) == {"Err": {"Internal": "Callback failed"}}
    assert await alice.call("app", "converse", "get_pubkey", {"src_id": "root_seed"}) == {
        "Err": {"Internal": "Callback failed"}
    }
    assert await alice.call("app", "converse", "sign_message", {"key_id": "root_seed", "message": "m"}) == {
        "Err": {"Internal": "Callback failed"}
    }
    assert (await alice.call("app", "converse", "list_secrets", {}))["Ok"] == [
        "app_root_seed",
        "primary_keybundle:enc_key",
        "primary_keybundle:sign_key",
        "root_seed",
    ]


async def test_capabilities_grant_and_claim(scenario, one):
    """The scenario app_spec skips (``scenario.skip``), with its expected values."""
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    assert bob.info("app").agent_address == BOB
    grant = await alice.call("app", "blog", "request_post_grant", {})
    assert grant["Ok"]
    grants = await alice.call("app", "blog", "get_grants", {})
    assert grants["Ok"][0] == grant["Ok"]
    claim = await bob.call(
        "app", "blog", "commit_post_claim", {"grantor": alice.info("app").agent_address, "claim": grant["Ok"]}
    )
    assert claim == {"Ok": "QmYsFu7QGaVeUUac1E4BWST7BR38cYvzRaaTc3YS9WqsTu"}
    created = await bob.call(
        "app",
        "blog",
        "create_post_with_claim",
        {"grantor": alice.info("app").agent_address, "content": "Holo world", "in_reply_to": None},
    )
    assert created == {"Ok": HOLO_WORLD_POST}
    got = await alice.call("app", "blog", "get_post", {"post_address": HOLO_WORLD_POST})
    assert json.loads(got["Ok"]["App"][1])["content"] == "Holo world"
    # the post is on alice's chain (bob asked; alice committed)
    assert alice.instance("app").chain.head.entry_address == HOLO_WORLD_POST
    again = await bob.call(
        "app",
        "blog",
        "create_post_with_claim",
        {"grantor": bob.info("app").agent_address, "content": "Holo world", "in_reply_to": None},
    )
    assert again == {"Ok": "error: no matching grant for claim"}


async def test_request_grant(scenario, one):
    alice = await scenario.player("alice", one)
    grant = await alice.call("app", "blog", "request_post_grant", {})
    grants = await alice.call("app", "blog", "get_grants", {})
    assert grant["Ok"] == grants["Ok"][0]
    assert grants["Ok"][1] == alice.instance("app").public_token  # newest first: [can_post, hc_public]


async def test_an_assigned_grant_lets_only_its_assignee_call(scenario, one):
    """The capability check with a grant of our own: token + signature + assignee."""
    alice = await scenario.player("alice", one)
    instance = alice.instance("app")
    token = (await alice.call("app", "blog", "request_post_grant", {}))["Ok"]
    bob_key = AgentKey.for_test_agent("bob::app")
    args = {"content": "from bob"}
    signature = bob_key.sign(encode_call_data_for_signing("create_post", json.dumps(args, separators=(",", ":"))))
    result = instance.call("blog", "create_post", args, token=token, provenance=[bob_key.address, signature])
    if not isinstance(result, str):
        result = await result
    assert json.loads(result)["Ok"]
    carol_key = AgentKey.for_test_agent("carol::app")
    carol_sig = carol_key.sign(encode_call_data_for_signing("create_post", json.dumps(args, separators=(",", ":"))))
    with pytest.raises(InstanceError, match="Caller does not have Capability to make that call"):
        instance.call("blog", "create_post", args, token=token, provenance=[carol_key.address, carol_sig])
    with pytest.raises(InstanceError, match="Caller does not have Capability to make that call"):
        instance.call("blog", "get_post", {"post_address": "x"}, token=token, provenance=[bob_key.address, signature])


async def test_create_post_countersigned(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    address = await bob.call("app", "blog", "post_address", {"content": "Holo world"})
    signed = await bob.call("app", "converse", "sign_message", {"key_id": "", "message": address["Ok"]})
    counter_signature = [bob.info("app").agent_address, signed["Ok"]]
    result = await alice.call(
        "app",
        "blog",
        "create_post_countersigned",
        {"content": "Holo world", "in_reply_to": None, "counter_signature": counter_signature},
    )
    assert result == {"Ok": HOLO_WORLD_POST}
    # the committed header carries only the author's provenance
    header = alice.instance("app").chain.record(alice.instance("app").chain.length - 2).header
    assert header.entry_address == HOLO_WORLD_POST
    assert [p[0] for p in header.provenances] == [alice.info("app").agent_address]


async def test_a_bad_counter_signature_fails_the_commit(scenario, one):
    alice = await scenario.player("alice", one)
    length = alice.instance("app").chain.length
    bad = [BOB, "N4wF/U1By7TA4H3k9i+5r8IGYzRMTi59mr/XZOpz8Ydj85mbupUk6tHMf/owgjJo43Vu1lja7ZFKGOFQnpa0Bw=="]
    result = await alice.call(
        "app",
        "blog",
        "create_post_countersigned",
        {"content": "Holo world", "in_reply_to": None, "counter_signature": bad},
    )
    assert json.loads(result["Err"]["Internal"])["kind"] == {
        "ValidationFailed": f"Signature of entry {HOLO_WORLD_POST} from author {BOB} invalid"
    }
    assert alice.instance("app").chain.length == length
