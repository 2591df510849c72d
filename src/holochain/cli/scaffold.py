"""Files ``hc init`` and ``hc generate`` write."""

from __future__ import annotations

import json

__all__ = [
    "app_json",
    "GITIGNORE",
    "HCIGNORE",
    "zome_json",
    "zome_code",
    "project_readme",
    "TEST_CONFTEST",
    "PYTEST_INI",
    "project_test",
    "zome_test",
]

GITIGNORE = "dist/\nnode_modules/\ntarget/\n.hc\n__pycache__/\n.pytest_cache/\n"
HCIGNORE = "dist\ntest\nREADME.md"


def app_json(name: str) -> str:
    return (
        json.dumps(
            {
                "name": name,
                "description": "A Holochain app",
                "authors": [{"identifier": "Author Name <author@name.com>", "public_key_source": "", "signature": ""}],
                "version": "0.1.0",
                "dht": {},
                "properties": None,
            },
            indent=2,
        )
        + "\n"
    )


def project_readme(name: str) -> str:
    return f"""# {name}

A Holochain DNA written in Python.

    hc generate zomes/my_zome   # add a zome (and test/test_my_zome.py)
    hc package                  # build dist/{name}.dna.json
    hc test                     # package, then run the tests in test/
    hc run                      # serve it on ws://localhost:8888
    hc run --persist --watch    # ... reloading zome code when it changes
    hc chain                    # what `hc run --persist` stored, newest first
"""


def zome_json(name: str) -> str:
    return json.dumps({"description": f"The {name} zome"}, indent=2) + "\n"


def zome_code(name: str) -> str:
    """A zome that runs as generated: one entry type, create and get."""
    return f'''"""The {name} zome."""

from dataclasses import dataclass

from holochain import hdk

zome = hdk.Zome(description="The {name} zome")


@zome.entry_type("my_entry", description="an example entry", sharing="public")
@dataclass
class MyEntry:
    content: str


@zome.validate("my_entry")
def validate_my_entry(validation: hdk.EntryValidation) -> None:
    if not validation.entry.content:
        raise hdk.ValidationError("content must not be empty")


@zome.function(public=True)
def create_my_entry(entry: MyEntry) -> str:
    """Commit an entry; answers its address."""
    return hdk.commit_entry(entry)


@zome.function(public=True)
def get_my_entry(address: str) -> hdk.Entry | None:
    """The entry at ``address``, or null."""
    return hdk.get_entry(address)
'''


# -- tests ------------------------------------------------------------------------------------

PYTEST_INI = """[pytest]
testpaths = test
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

TEST_CONFTEST = '''"""Fixtures for this DNA's tests (`hc test` packages the DNA, then runs pytest here).

The `scenario` fixture comes with holochain-py: players (conductors) sharing a DHT in
this process; `await scenario.consistency()` waits until everything published is held.
"""

import os
from pathlib import Path

import pytest

from holochain.testing import DnaSpec, PlayerConfig

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def dna_path() -> Path:
    """The packaged DNA: `hc test` says where (HC_DNA_PATH), else dist/<project>.dna.json."""
    path = Path(os.environ.get("HC_DNA_PATH") or PROJECT / "dist" / f"{PROJECT.name}.dna.json")
    if not path.is_file():
        pytest.fail(f"{path} not found: run `hc package` first (`hc test` does)")
    return path


@pytest.fixture
def player_config(dna_path: Path) -> PlayerConfig:
    """A player running this DNA as instance "app"."""
    return PlayerConfig({"app": DnaSpec(dna_path)})
'''


def project_test(name: str) -> str:
    """The test ``hc init`` writes: the DNA packages, and once it has zomes, a player runs it."""
    return f'''"""The {name} DNA as a whole."""

import json

import pytest

pytestmark = pytest.mark.asyncio


async def test_the_dna_packages_and_a_player_runs_it(scenario, dna_path, player_config):
    dna = json.loads(dna_path.read_text(encoding="utf-8"))
    assert dna["name"] == "{name}"
    if not dna.get("zomes"):
        return  # nothing to run yet: `hc generate zomes/<name>` adds a zome and its test
    alice = await scenario.player("alice", player_config)
    assert alice.info("app").agent_address.startswith("Hc")
    assert alice.info("app").dna_address.startswith("Qm")
'''


def zome_test(name: str) -> str:
    """The test ``hc generate`` writes for a new zome: what the generated zome does, end to end."""
    return f'''"""The {name} zome: two players share entries through the DHT."""

import pytest

pytestmark = pytest.mark.asyncio


async def test_an_entry_alice_creates_is_seen_by_bob(scenario, player_config):
    players = await scenario.players({{"alice": player_config, "bob": player_config}})
    alice, bob = players["alice"], players["bob"]
    created = await alice.call("app", "{name}", "create_my_entry", {{"entry": {{"content": "hello"}}}})
    assert "Ok" in created, created
    await scenario.consistency()
    got = await bob.call("app", "{name}", "get_my_entry", {{"address": created["Ok"]}})
    assert got == {{"Ok": {{"App": ["my_entry", \'{{"content":"hello"}}\']}}}}


async def test_an_empty_entry_is_refused(scenario, player_config):
    alice = await scenario.player("alice", player_config)
    refused = await alice.call("app", "{name}", "create_my_entry", {{"entry": {{"content": ""}}}})
    assert "content must not be empty" in refused["Err"]["Internal"]
'''
