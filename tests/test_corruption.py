"""Damage on disk is detected, named, and never served as valid data.

Bytes of the SQLite files are altered directly (not through SQL), as a bad
disk or a careless hand would: a flipped byte in an agent's own chain stops
that instance at start with a message naming it and the damage; a flipped
byte in data held for others is refused on read (logged), and the genuine
entry is fetched from the network instead.  On an encrypted store the same
edits are made through SQLCipher with the agent's key (whoever holds the key
still cannot forge what the store serves); a flipped ciphertext byte is in
test_encryption.py.
"""

from __future__ import annotations

import json
import logging

import pytest

from app_spec_support import app_spec_dna  # noqa: F401  (fixture)
from conductor_setup import open_db
from holochain.storage.encryption import PLAIN_HEADER
from holochain.storage.sqlite import DB_FILENAME
from holochain.testing import DnaSpec, PlayerConfig, Scenario


def flip(path, needle: bytes, replacement: bytes, test_agent: str | None = None) -> None:
    """Replace ``needle`` (which must occur) by an equally long ``replacement``: in the raw file,
    or, for the encrypted store of ``test_agent``, in every text column through SQLCipher."""
    assert len(needle) == len(replacement)
    if test_agent is None:
        data = path.read_bytes()
        assert needle in data, f"{needle!r} is not in {path}"
        path.write_bytes(data.replace(needle, replacement))
        return
    old, new = needle.decode(), replacement.decode()
    with open_db(path, test_agent) as conn:
        changed = 0
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for column in [row[1] for row in conn.execute(f"PRAGMA table_info({table})").fetchall()]:
                changed += conn.execute(
                    f"UPDATE {table} SET {column} = replace({column}, ?, ?) WHERE typeof({column}) = 'text' "
                    f"AND instr({column}, ?) > 0",
                    (old, new, old),
                ).rowcount
    assert changed, f"{old!r} is not in {path}"


@pytest.mark.parametrize("storage", ["sqlite", "encrypted"])
async def test_a_flipped_byte_in_the_own_chain_stops_the_instance_at_start(tmp_path, app_spec_dna, storage):
    config = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage=storage)
    async with Scenario(tmp_path / "s") as scenario:
        alice = await scenario.player("alice", config)
        await alice.call("app", "blog", "create_post", {"content": "kept safe", "in_reply_to": None})
        await alice.kill()
        db = tmp_path / "s" / "alice" / "app" / DB_FILENAME
        assert (db.read_bytes()[:16] == PLAIN_HEADER) == (storage == "sqlite")  # encrypted when asked
        flip(db, b"kept safe", b"kept sage", "alice::app" if storage == "encrypted" else None)
        with pytest.raises(Exception) as refused:
            await alice.spawn()
        message = str(refused.value)
        assert "instance 'app'" in message and "damaged" in message


@pytest.mark.parametrize("storage", ["sqlite", "encrypted"])
async def test_a_flipped_byte_in_held_data_is_never_served(tmp_path, app_spec_dna, caplog, storage):
    on_disk = PlayerConfig({"app": DnaSpec(app_spec_dna)}, storage=storage)
    async with Scenario(tmp_path / "s") as scenario:
        players = await scenario.players({"alice": PlayerConfig({"app": DnaSpec(app_spec_dna)}), "bob": on_disk})
        alice, bob = players["alice"], players["bob"]
        address = (
            await alice.call("app", "blog", "create_post", {"content": "the genuine text", "in_reply_to": None})
        )["Ok"]
        await scenario.consistency()
        assert bob.instance("app").shard.record(address) is not None  # bob holds it
        await bob.kill()
        flip(
            tmp_path / "s" / "bob" / "app" / DB_FILENAME,
            b"the genuine text",
            b"the forged  text",
            "bob::app" if storage == "encrypted" else None,
        )
        await bob.spawn()  # bob's own chain is intact: he starts
        with caplog.at_level(logging.ERROR):
            got = await bob.call("app", "blog", "get_post", {"post_address": address})
        assert json.loads(got["Ok"]["App"][1])["content"] == "the genuine text"  # fetched from alice
        assert f"the stored entry {address} is damaged" in caplog.text
