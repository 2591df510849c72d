"""The scenario harness itself, and the app_spec DNA as ``hc package`` builds it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from app_spec_support import REPO, app_spec_dna, one  # noqa: F401  (fixtures)
from conftest import HC
from holochain.core.dna import Dna
from holochain.testing import CallFailed, Scenario


async def test_refused_calls_raise_with_the_conductors_message(scenario, one):
    alice = await scenario.player("alice", one)
    with pytest.raises(CallFailed, match="Holochain Instance Error: Zome 'nope' not found"):
        await alice.call("app", "nope", "f", {})
    with pytest.raises(CallFailed, match="Zome function 'nope' not found in Zome 'blog'"):
        await alice.call("app", "blog", "nope", {})


async def test_players_are_named_once_and_remember_their_addresses(scenario, one):
    alice = await scenario.player("alice", one)
    with pytest.raises(ValueError, match="already a player named 'alice'"):
        await scenario.player("alice", one)
    address = alice.info("app").agent_address
    await alice.kill()
    assert not alice.running
    assert alice.info("app").agent_address == address
    with pytest.raises(RuntimeError, match="not running"):
        alice.instance("app")
    await alice.spawn()
    assert alice.instance("app").agent.address == address  # same name, same test key


async def test_consistency_with_nothing_to_do_returns(scenario, one):
    await scenario.consistency(timeout=1)
    await scenario.player("alice", one, spawn=False)
    await scenario.consistency(timeout=1)


async def test_a_scenario_closes_its_players(tmp_path, one):
    async with Scenario(tmp_path / "s") as scenario:
        alice = await scenario.player("alice", one)
        assert scenario.network.nodes
    assert not alice.running
    assert scenario.network.nodes == set()


def test_hc_package_builds_app_spec(tmp_path):
    project = tmp_path / "app_spec"
    shutil.copytree(REPO / "examples" / "app_spec", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    done = subprocess.run([HC, "package"], cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    dna = Dna.from_text((project / "dist" / "app_spec.dna.json").read_bytes())
    assert dna.name == "HDK-spec-rust"
    assert dna.properties == {"test_property": "test-property-value"}
    assert sorted(dna.zomes) == ["blog", "converse", "simple", "summer"]
    blog = dna.zomes["blog"]
    # the post definition app_spec's post.rs tests (post_definition_test)
    assert blog["entry_types"]["post"] == {
        "properties": "blog entry post",
        "sharing": "public",
        "links_to": [],
        "linked_from": [
            {"base_type": "%agent_id", "link_type": "authored_posts"},
            {"base_type": "%agent_id", "link_type": "recommended_posts"},
        ],
    }
    assert blog["entry_types"]["memo"]["sharing"] == "private"
    assert blog["bridges"] == [{"presence": "optional", "handle": "test-bridge", "reference": {"traits": {}}}]
    assert "create_post" in blog["traits"]["hc_public"]["functions"]
    assert dna.zomes["summer"]["fn_declarations"] == [
        {
            "name": "sum",
            "inputs": [{"type": "int", "name": "num1"}, {"type": "int", "name": "num2"}],
            "outputs": [{"type": "ZomeApiResult<int>", "name": "result"}],
        }
    ]
    printed = json.loads((project / "dist" / "app_spec.dna.json").read_text())["name"]
    assert printed == "HDK-spec-rust"
