"""app_spec ``test/files/memo.js``: private entries never leave their author."""

from __future__ import annotations

from app_spec_support import HOT_MEMO, app_spec_dna_both, one  # noqa: F401  (fixtures)

MEMO = {"content": "Reminder: Buy some HOT."}


async def test_get_memo_returns_none(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call("app", "blog", "create_memo", MEMO)
    assert created == {"Ok": HOT_MEMO}
    assert await alice.call("app", "blog", "memo_address", MEMO) == {"Ok": HOT_MEMO}
    await scenario.consistency()
    assert await alice.call("app", "blog", "get_memo", {"memo_address": HOT_MEMO}) == {
        "Ok": {"App": ["memo", '{"content":"Reminder: Buy some HOT.","date_created":"now"}']}
    }
    assert await bob.call("app", "blog", "get_memo", {"memo_address": HOT_MEMO}) == {"Ok": None}
    # nothing of it reached bob's shard, though the memo's header did
    assert bob.instance("app").store.get_content(HOT_MEMO) is None
    alice_head = alice.instance("app").chain.head
    assert alice_head.entry_address == HOT_MEMO
    header_entry = await bob.call("app", "blog", "get_post", {"post_address": alice_head.address})
    assert header_entry["Ok"]["ChainHeader"]["entry_address"] == HOT_MEMO


async def test_my_memos_are_private(scenario, one):
    players = await scenario.players({"alice": one, "bob": one})
    alice, bob = players["alice"], players["bob"]
    assert await alice.call("app", "blog", "create_memo", MEMO) == {"Ok": HOT_MEMO}
    assert await alice.call("app", "blog", "my_memos", {}) == {"Ok": [HOT_MEMO]}
    assert await bob.call("app", "blog", "my_memos", {}) == {"Ok": []}


async def test_a_newcomer_is_not_sent_private_entries(scenario, one):
    alice = await scenario.player("alice", one)
    await alice.call("app", "blog", "create_memo", MEMO)
    await scenario.consistency()
    carol = await scenario.player("carol", one)
    assert await carol.call("app", "blog", "get_memo", {"memo_address": HOT_MEMO}) == {"Ok": None}
    assert carol.instance("app").store.get_content(HOT_MEMO) is None
