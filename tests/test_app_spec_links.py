"""app_spec ``test/files/links.js`` and ``test/regressions.js``: links, their CRUD, counts and pages."""

from __future__ import annotations

import json
import re
import time

from app_spec_support import app_spec_dna_both, one  # noqa: F401  (fixtures)

BAD_LINK = re.compile(
    r'Target for link not found: Link \{ base: HashString\(".*"\), target: HashString\(".*"\), '
    r'link_type: "authored_posts", tag: "" \}'
)


async def links(player, base, **options):
    result = await player.call("app", "simple", "get_my_links", {"base": base, **options})
    return result["Ok"]["links"]


async def test_delete_post(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    base = alice.info("app").agent_address
    await alice.call_sync("app", "simple", "create_link", {"base": base, "target": "Posty"})
    await bob.call_sync("app", "simple", "create_link", {"base": base, "target": "Posty"})
    # two calls, two distinct links (each embeds its author's chain head)
    assert len(await links(bob, base, status_request="Live")) == 2
    assert len(await links(alice, base, status_request="Live")) == 2

    # alice's removal removes both, hers and bob's
    await alice.call_sync("app", "simple", "delete_link", {"base": base, "target": "Posty"})
    assert len(await links(bob, base, status_request="Live")) == 0
    assert len(await links(alice, base, status_request="Live")) == 0

    # the same link again is a new, live link
    await alice.call_sync("app", "simple", "create_link", {"base": base, "target": "Posty"})
    assert len(await links(alice, base, status_request="Live")) == 1
    assert len(await links(bob, base, status_request="Live")) == 1


async def test_delete_post_with_bad_link(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    bob = players["bob"]
    length = bob.instance("app").chain.length
    result = await bob.call_sync("app", "blog", "delete_post", {"content": "Bad"})
    assert "Ok" not in result
    error = json.loads(result["Err"]["Internal"])
    assert BAD_LINK.search(error["kind"]["ErrorGeneric"])
    assert error["file"] and error["line"]
    assert bob.instance("app").chain.length == length  # nothing written


async def test_get_links_paginate(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    base = alice.info("app").agent_address
    for target in ("Holo world", "Holo world 2", "Holo world 3", "Holo world 4"):
        await alice.call_sync("app", "simple", "create_link", {"base": base, "target": target})

    async def page(player, number):
        result = await player.call(
            "app", "simple", "get_my_links_with_pagination", {"base": base, "pagesize": 3, "pagenumber": number}
        )
        return result["Ok"]["links"]

    assert len(await page(alice, 0)) == 3 and len(await page(bob, 0)) == 3
    assert len(await page(alice, 1)) == 1 and len(await page(bob, 1)) == 1
    first = [l["address"] for l in await page(bob, 0)] + [l["address"] for l in await page(bob, 1)]
    assert len(set(first)) == 4  # the pages do not overlap

    async def by_time(player, from_seconds):
        result = await player.call(
            "app",
            "simple",
            "get_my_links_with_time_pagination",
            {"base": base, "from_seconds": from_seconds, "limit": 3},
        )
        return result["Ok"]["links"]

    # JS sleeps 5 s and asks from "now"; asking from the next whole second is the same question
    later = int(time.time()) + 1
    assert len(await by_time(bob, later)) == 0 and len(await by_time(alice, later)) == 0
    assert len(await by_time(bob, 0)) == 3 and len(await by_time(alice, 0)) == 3


async def test_get_links_crud(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    base = alice.info("app").agent_address
    await alice.call_sync("app", "simple", "create_link", {"base": base, "target": "Holo world"})
    await alice.call_sync("app", "simple", "create_link", {"base": base, "target": "Holo world 2"})
    await scenario.consistency()
    for player in (alice, bob):
        live = await links(player, base, status_request="Live")
        assert [l["status"] for l in live] == ["live", "live"]

    await alice.call_sync("app", "simple", "delete_link", {"base": base, "target": "Holo world"})
    await scenario.consistency()
    for player in (alice, bob):
        deleted = await links(player, base, status_request="Deleted")
        assert [l["status"] for l in deleted] == ["deleted"]
        # newest first by default: the removal is the latest fact
        assert [l["status"] for l in await links(player, base, status_request="All")] == ["deleted", "live"]
        ascending = await links(player, base, status_request="All", sort_order="Ascending")
        assert [l["status"] for l in ascending] == ["live", "deleted"]


async def test_get_links_crud_count(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    base = alice.info("app").agent_address
    for target, tag in (("Holo world", "tag"), ("Holo world", "differen"), ("Holo world 2", "tag")):
        await alice.call_sync("app", "simple", "create_link_with_tag", {"base": base, "target": target, "tag": tag})

    async def count(player, status, tag):
        result = await player.call(
            "app", "simple", "get_my_links_count", {"base": base, "status_request": status, "tag": tag}
        )
        return result["Ok"]["count"]

    assert await count(alice, "Live", "tag") == 2
    assert await count(bob, "Live", "tag") == 2
    assert await count(bob, "Live", "differen") == 1
    assert await count(bob, "Live", "TAG") == 2  # tags match ignoring case

    await alice.call_sync("app", "simple", "delete_link_with_tag", {"base": base, "target": "Holo world", "tag": "tag"})
    assert await count(bob, "Deleted", "tag") == 1
    assert await count(alice, "Deleted", "tag") == 1
    assert await count(bob, "Live", "differen") == 1


async def test_get_sources_after_same_link(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    params = {"agent_id": alice.info("app").agent_address, "content": "Holo world", "in_reply_to": None}
    await bob.call_sync("app", "blog", "create_post_with_agent", params)
    await bob.call_sync("app", "blog", "create_post_with_agent", params)
    for player in (alice, bob):
        result = await player.call(
            "app", "blog", "authored_posts_with_sources", {"agent": alice.info("app").agent_address}
        )
        assert len(result["Ok"]["links"]) == 2
        assert result["Ok"]["links"][0]["headers"][0]["provenances"][0][0] == bob.info("app").agent_address


async def test_get_sources_from_link(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    await alice.call_sync("app", "blog", "create_post", {"content": "Holo world", "in_reply_to": None})
    await bob.call_sync("app", "blog", "create_post", {"content": "Another one", "in_reply_to": None})
    alice_posts = (
        await bob.call("app", "blog", "authored_posts_with_sources", {"agent": alice.info("app").agent_address})
    )["Ok"]["links"]
    bob_posts = (
        await alice.call("app", "blog", "authored_posts_with_sources", {"agent": bob.info("app").agent_address})
    )["Ok"]["links"]
    assert len(bob_posts) == 1 and len(alice_posts) == 1
    assert bob_posts[0]["headers"][0]["provenances"][0][0] == bob.info("app").agent_address
    assert alice_posts[0]["headers"][0]["provenances"][0][0] == alice.info("app").agent_address


async def test_link_validation_rejects_the_forbidden_tag(scenario, one):
    alice = await scenario.player("alice", one)
    result = await alice.call("app", "blog", "create_tagged_post", {"content": "cake", "tag": "muffins"})
    assert json.loads(result["Err"]["Internal"])["kind"] == {
        "ValidationFailed": "This is the one tag that is not allowed!"
    }
    ok = await alice.call("app", "blog", "create_tagged_post", {"content": "cake", "tag": "cupcakes"})
    assert ok["Ok"]
    tagged = await alice.call("app", "blog", "my_posts", {"tag": "CUPCAKES"})
    assert [l["tag"] for l in tagged["Ok"]["links"]] == ["cupcakes"]


async def test_my_posts_with_load(scenario, one):
    alice = await scenario.player("alice", one)
    for content in ("first", "second"):
        await alice.call("app", "blog", "create_post", {"content": content})
    loaded = await alice.call("app", "blog", "my_posts_with_load", {})
    assert sorted(p["content"] for p in loaded["Ok"]) == ["first", "second"]


# -- test/regressions.js ------------------------------------------------------------------------


async def test_calling_get_links_before_link_entries_makes_no_difference(scenario, one):
    alice = await scenario.player("alice", one)
    assert (await alice.call("app", "blog", "my_posts", {}))["Ok"] == {"links": []}
    assert (await alice.call_sync("app", "blog", "create_post", {"content": "hi"}))["Ok"]
    await alice.call("app", "blog", "my_posts", {})
    assert len((await alice.call("app", "blog", "my_posts", {}))["Ok"]["links"]) == 1


async def test_recommend_own_post_to_self(scenario, one):
    alice = await scenario.player("alice", one)
    address = (await alice.call_sync("app", "blog", "create_post", {"content": "Holo world...1", "in_reply_to": None}))[
        "Ok"
    ]
    assert (await alice.call("app", "blog", "get_post", {"post_address": address}))["Ok"]
    linked = await alice.call_sync(
        "app", "blog", "recommend_post", {"post_address": address, "agent_address": alice.info("app").agent_address}
    )
    assert linked["Ok"]
    assert len((await alice.call("app", "blog", "my_recommended_posts", {}))["Ok"]["links"]) == 1


async def test_bob_recommends_alices_post_to_self(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    address = (await alice.call_sync("app", "blog", "create_post", {"content": "Holo world...2", "in_reply_to": None}))[
        "Ok"
    ]
    assert (await bob.call("app", "blog", "get_post", {"post_address": address}))["Ok"]
    linked = await bob.call_sync(
        "app", "blog", "recommend_post", {"post_address": address, "agent_address": bob.info("app").agent_address}
    )
    assert linked["Ok"]
    assert len((await bob.call("app", "blog", "my_recommended_posts", {}))["Ok"]["links"]) == 1


async def test_recommend_to_other_agent(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    address = (await alice.call_sync("app", "blog", "create_post", {"content": "Holo world...3", "in_reply_to": None}))[
        "Ok"
    ]
    assert (await bob.call("app", "blog", "get_post", {"post_address": address}))["Ok"]
    linked = await alice.call_sync(
        "app", "blog", "recommend_post", {"post_address": address, "agent_address": bob.info("app").agent_address}
    )
    assert linked["Ok"]
    # bob answers links on himself from his own shard: alice's link reached him by publishing
    assert len((await bob.call("app", "blog", "my_recommended_posts", {}))["Ok"]["links"]) == 1
    assert (await alice.call("app", "blog", "my_recommended_posts", {}))["Ok"]["links"] == []
