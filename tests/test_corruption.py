"""Damage on disk is detected, named, and never served as valid data.

Bytes of the SQLite files are altered directly (not through SQL), as a bad
disk or a careless hand would: a flipped byte in an agent's own chain stops
that instance at start with a message naming it and the damage; a flipped
byte in data held for others is refused on read (logged), and the genuine
entry is fetched from the network instead.
"""

from __future__ import annotations

import json
import logging

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from holochain.storage.sqlite import DB_FILENAME
from holochain.testing import DnaSpec, PlayerConfig, Scenario


def flip(path, needle: bytes, replacement: bytes) -> None:
    """Replace ``needle`` (which must occur) by an equally long ``replacement`` in the raw file."""
    assert len(needle) == len(replacement)
    data = path.read_bytes()
    assert needle in data, f"{needle!r} is not in {path}"
    path.write_bytes(data.replace(needle, replacement))


async def test_a_flipped_byte_in_the_own_chain_stops_the_instance_at_start(tmp_path, app_spec_dna):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage="sqlite")
    async with Scenario(tmp_path / "s") as scenario:
        alice = await scenario.player("alice", config)
        await alice.call("app", "blog", "create_post", {"content": "kept safe", "in_reply_to": None})
        await alice.kill()
        db = tmp_path / "s" / "alice" / "app" / DB_FILENAME
        flip(db, b"kept safe", b"kept sage")
        with pytest.raises(Exception) as refused:
            await alice.spawn()
        message = str(refused.value)
        assert "instance 'app'" in message and "damaged" in message


async def test_a_flipped_byte_in_held_data_is_never_served(tmp_path, app_spec_dna, caplog):
    on_disk = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage="sqlite")
    async with Scenario(tmp_path / "s") as scenario:
        players = await scenario.players({"alice": PlayerConfig({"app": DnaSpec(app_spec_dna)}), "bob": on_disk})
        alice, bob = players["alice"], players["bob"]
        address = (
            await alice.call("app", "blog", "create_post", {"content": "the genuine text", "in_reply_to": None})
        )["Ok"]
        await scenario.consistency()
        assert bob.instance("app").shard.record(address) is not None  # bob holds it
        await bob.kill()
        flip(tmp_path / "s" / "bob" / "app" / DB_FILENAME, b"the genuine text", b"the forged  text")
        await bob.spawn()  # bob's own chain is intact: he starts
        with caplog.at_level(logging.ERROR):
            got = await bob.call("app", "blog", "get_post", {"post_address": address})
        assert json.loads(got["Ok"]["App"][1])["content"] == "the genuine text"  # fetched from alice
        assert f"the stored entry {address} is damaged" in caplog.text
