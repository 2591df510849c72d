"""app_spec ``test/files/entry.js``: create, get, update, delete, history and sources of entries."""

from __future__ import annotations

import json

from app_spec_support import HOLO_WORLD_POST, app_spec_dna_both, one, post  # noqa: F401  (fixtures)


def content_of(entry: dict) -> dict:
    return json.loads(entry["App"][1])


async def test_delete_entry_post(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call_sync(
        "app", "blog", "create_post", {"content": "Hello Holo world 321", "in_reply_to": None}
    )
    assert created["Ok"]
    deleted = await alice.call_sync("app", "blog", "delete_entry_post", {"post_address": created["Ok"]})
    assert deleted["Ok"]

    failed = await bob.call_sync("app", "blog", "delete_entry_post", {"post_address": created["Ok"]})
    assert failed["Err"] == {"Internal": "Entry Could Not Be Found"}

    initial = await bob.call("app", "blog", "get_initial_post", {"post_address": created["Ok"]})
    assert content_of(initial["Ok"]) == post("Hello Holo world 321")
    with_options = await bob.call("app", "blog", "get_post_with_options", {"post_address": created["Ok"]})
    items = with_options["Ok"]["result"]["All"]["items"]
    assert content_of(items[0]["entry"]) == post("Hello Holo world 321")
    assert items[0]["meta"]["crud_status"] == "deleted"
    # deleted: get_post gives null, for the author and for others
    assert (await alice.call("app", "blog", "get_post", {"post_address": created["Ok"]})) == {"Ok": None}
    assert (await bob.call("app", "blog", "get_post", {"post_address": created["Ok"]})) == {"Ok": None}


async def test_update_entry_validation(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    missing = await bob.call_sync(
        "app", "blog", "update_post", {"post_address": "1234", "new_content": "Hello Holo V2"}
    )
    assert missing["Err"] == {"Internal": "failed to update post"}

    created = await alice.call_sync(
        "app", "blog", "create_post", {"content": "Hello Holo world 321", "in_reply_to": None}
    )
    same = await bob.call_sync(
        "app", "blog", "update_post", {"post_address": created["Ok"], "new_content": "Hello Holo world 321"}
    )
    assert json.loads(same["Err"]["Internal"])["kind"]["ValidationFailed"] == "Trying to modify with same data"


async def test_update_post(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    v1 = (await alice.call("app", "blog", "create_post", {"content": "Hello Holo world 123", "in_reply_to": None}))[
        "Ok"
    ]
    await scenario.consistency()
    got = await alice.call("app", "blog", "get_post", {"post_address": v1})
    assert content_of(got["Ok"]) == post("Hello Holo world 123")

    v2_result = await bob.call("app", "blog", "update_post", {"post_address": v1, "new_content": "Hello Holo V2"})
    assert "Err" not in v2_result
    v2 = v2_result["Ok"]
    await scenario.consistency()
    assert content_of((await alice.call("app", "blog", "get_post", {"post_address": v1}))["Ok"]) == post(
        "Hello Holo V2"
    )
    assert content_of((await alice.call("app", "blog", "get_post", {"post_address": v2}))["Ok"]) == post(
        "Hello Holo V2"
    )
    assert content_of((await alice.call("app", "blog", "get_initial_post", {"post_address": v1}))["Ok"]) == post(
        "Hello Holo world 123"
    )
    assert content_of((await alice.call("app", "blog", "get_initial_post", {"post_address": v2}))["Ok"]) == post(
        "Hello Holo V2"
    )

    v3 = (await alice.call("app", "blog", "update_post", {"post_address": v1, "new_content": "Hello Holo V3"}))["Ok"]
    await scenario.consistency()
    assert content_of((await alice.call("app", "blog", "get_post", {"post_address": v1}))["Ok"]) == post(
        "Hello Holo V3"
    )
    assert content_of((await alice.call("app", "blog", "get_post", {"post_address": v2}))["Ok"]) == post(
        "Hello Holo V3"
    )

    v4 = (await alice.call("app", "blog", "update_post", {"post_address": v1, "new_content": "Hello Holo V4"}))["Ok"]
    await scenario.consistency()

    history_v4 = (await alice.call("app", "blog", "get_history_post", {"post_address": v4}))["Ok"]
    assert len(history_v4["items"]) == 1
    assert content_of(history_v4["items"][0]["entry"]) == post("Hello Holo V4")
    assert history_v4["items"][0]["meta"]["address"] == v4
    assert history_v4["items"][0]["meta"]["crud_status"] == "live"

    history = (await alice.call("app", "blog", "get_history_post", {"post_address": v1}))["Ok"]
    assert [item["meta"]["address"] for item in history["items"]] == [v1, v2, v3, v4]
    assert [item["meta"]["crud_status"] for item in history["items"]] == ["modified", "modified", "modified", "live"]
    assert [content_of(item["entry"]) for item in history["items"]] == [
        post("Hello Holo world 123"),
        post("Hello Holo V2"),
        post("Hello Holo V3"),
        post("Hello Holo V4"),
    ]
    assert history["crud_links"] == {v1: v2, v2: v3, v3: v4}

    latest = await alice.call("app", "blog", "get_post_with_options_latest", {"post_address": v1})
    assert content_of(latest["Ok"]) == post("Hello Holo V4")
    # bob, who held v1 and made v2, sees the same history
    assert (await bob.call("app", "blog", "get_history_post", {"post_address": v1}))["Ok"] == history


async def test_remove_update_modified_entry(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    v1 = (
        await alice.call_sync("app", "blog", "create_post", {"content": "Hello Holo world 123", "in_reply_to": None})
    )["Ok"]
    assert content_of((await alice.call("app", "blog", "get_post", {"post_address": v1}))["Ok"]) == post(
        "Hello Holo world 123"
    )
    removed = await bob.call_sync("app", "blog", "delete_entry_post", {"post_address": v1})
    assert removed["Ok"]
    initial = await alice.call("app", "blog", "get_initial_post", {"post_address": v1})
    assert content_of(initial["Ok"]) == post("Hello Holo world 123")
    failed = await alice.call_sync("app", "blog", "delete_entry_post", {"post_address": v1})
    assert failed["Err"] == {"Internal": "Entry Could Not Be Found"}


async def test_get_sources(scenario, one):
    players = await scenario.players({"alice": one, "bob": one, "carol": one})
    alice, bob, carol = players["alice"], players["bob"], players["carol"]
    params = {"content": "whatever", "in_reply_to": None}
    addresses = [
        (await alice.call("app", "blog", "create_post", params))["Ok"],
        (await alice.call("app", "blog", "create_post", params))["Ok"],
        (await bob.call("app", "blog", "create_post", params))["Ok"],
        (await carol.call("app", "blog", "create_post", params))["Ok"],
    ]
    assert len(set(addresses)) == 1
    await scenario.consistency()
    expected = sorted(
        [alice.info("app").agent_address] * 2 + [bob.info("app").agent_address, carol.info("app").agent_address]
    )
    for player in (alice, bob, carol):
        sources = (await player.call("app", "blog", "get_sources", {"address": addresses[0]}))["Ok"]
        assert sorted(sources) == expected


async def test_create_and_publish_post_then_get_from_other_instance(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call_sync("app", "blog", "create_post", {"content": "Holo world", "in_reply_to": None})
    await bob.call_sync("app", "blog", "create_post", {"content": "post 2", "in_reply_to": None})
    assert len(created["Ok"]) == 46
    assert created["Ok"] == HOLO_WORLD_POST
    got = await bob.call("app", "blog", "get_post", {"post_address": created["Ok"]})
    assert content_of(got["Ok"])["content"] == "Holo world"


async def test_get_post_with_non_existent_address_returns_null(scenario, one):
    alice = await scenario.player("alice", one)
    assert await alice.call("app", "blog", "get_post", {"post_address": "RANDOM"}) == {"Ok": None}
