"""The admin API of `holochain -c`: every method, holochain-rust's params, results and
errors, only on admin interfaces, and every change saved and surviving a restart."""

from __future__ import annotations

import asyncio
import json
import tomllib

import pytest

from conductor_setup import (
    agent,
    blog_copy,
    dna,
    dna_hash,
    free_port,
    instance,
    interface,
    start_holochain,
    write_config,
)
from holochain.client import Client, RpcError


@pytest.fixture
def setup(tmp_path, spawn):
    """A conductor with one test agent, the blog DNA, one instance, an admin and an app interface."""
    blog = blog_copy(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    # as tryorama does: the config lives in persistence_dir, so admin changes are saved
    # to the very file a restart reads
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("blog", blog),
        instance("app", "blog", "alice", data / "app"),
        interface("admin", ["app"], admin=True),
        interface("app-ws", [("app", "blog-app")]),
    )

    def start():
        return start_holochain(spawn, config, tmp_path)

    return {"blog": blog, "data": data, "config": config, "start": start, "tmp": tmp_path}


def saved(setup) -> dict:
    return tomllib.loads((setup["data"] / "conductor-config.toml").read_text())


async def expect_error(client: Client, method: str, params, code: int, message: str) -> None:
    with pytest.raises(RpcError) as err:
        await client.request(method, params)
    assert (err.value.code, err.value.message) == (code, message)


async def test_admin_methods_are_method_not_found_on_app_interfaces(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['app-ws']}") as app:
        for method in (
            "admin/dna/list",
            "admin/agent/add",
            "test/agent/add",
            "debug/state_dump",
            "debug/running_instances",
        ):
            await expect_error(app, method, {}, -32601, "Method not found")
        assert await app.info_instances() == [{"id": "app", "dna": "blog", "agent": "alice"}]
        created = await app.call_zome("blog-app", "blog", "create_post", {"content": "via alias"})
        assert created["Ok"].startswith("Qm")


async def test_lists_show_the_rewritten_test_agent_and_dna_hash(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        agents = await admin.request("admin/agent/list", {})
        assert agents == [
            {
                "id": "alice",
                "name": "alice",
                "public_address": agents[0]["public_address"],
                "keystore_file": "[UNUSED]",
                "holo_remote_key": None,
                "test_agent": True,
            }
        ]
        assert agents[0]["public_address"].startswith("HcS")
        assert await admin.request("admin/dna/list", None) == [{"id": "blog", "hash": dna_hash(setup["blog"])}]
        assert await admin.request("admin/instance/list", {}) == [{"id": "app", "dna": "blog", "agent": "alice"}]
        assert await admin.request("admin/instance/running", {}) == [{"id": "app", "dna": "blog", "agent": "alice"}]
        assert await admin.request("debug/running_instances", {}) == ["app"]
        interfaces = await admin.request("admin/interface/list", {})
        assert interfaces[1] == {
            "id": "app-ws",
            "driver": {"type": "websocket", "port": 0},
            "admin": False,
            "instances": [{"id": "app", "alias": "blog-app"}],
            "choose_free_port": None,
        }
    # booting with a test agent already saved the rewritten address
    assert saved(setup)["agents"][0]["public_address"] == agents[0]["public_address"]


async def test_build_a_conductor_through_the_admin_api_and_restart_it(setup):
    """What diorama does: everything through admin calls; then all of it survives a restart."""
    conductor = setup["start"]()
    port = free_port()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        installed = await admin.request(
            "admin/dna/install_from_file",
            {
                "id": "blog2",
                "path": str(setup["blog"]),
                "copy": True,
                "properties": {"greeting": "hi"},
                "uuid": "second",
            },
        )
        assert installed["success"] is True and installed["dna_hash"] != dna_hash(setup["blog"])
        copied = setup["data"] / "dna" / f"{installed['dna_hash']}.dna.json"
        assert json.loads(copied.read_text())["properties"] == {"greeting": "hi"}
        bob = await admin.request("test/agent/add", {"id": "bob", "name": "bob"})
        assert bob["agent_address"].startswith("HcS")
        assert await admin.request("admin/instance/add", {"id": "app2", "dna_id": "blog2", "agent_id": "bob"}) == {
            "success": True
        }
        assert (setup["data"] / "storage" / "app2").is_dir()
        # added, not started: holochain-rust's order
        assert [i["id"] for i in await admin.request("admin/instance/running", {})] == ["app"]
        assert await admin.request("admin/instance/start", {"id": "app2"}) == {"success": True}
        await expect_error(
            admin,
            "admin/instance/start",
            {"id": "app2"},
            -32603,
            "Holochain Instance Error: Holochain instance is already active.",
        )
        assert await admin.request(
            "admin/interface/add", {"id": "extra", "admin": False, "type": "websocket", "port": port}
        ) == {"success": True}
        assert await admin.request(
            "admin/interface/add_instance", {"interface_id": "extra", "instance_id": "app2", "alias": "b2"}
        ) == {"success": True}
        async with await Client.connect(f"ws://127.0.0.1:{port}") as extra:
            assert await extra.info_instances() == [{"id": "app2", "dna": "blog2", "agent": "bob"}]
            assert json.loads(
                await extra.request(
                    "call", {"instance_id": "b2", "zome": "blog", "function": "get_greeting", "args": {}}
                )
            ) == {"Ok": "hi"}
            post = await extra.call_zome("b2", "blog", "create_post", {"content": "kept"})
        bridges_before = await admin.request("admin/bridge/list", {})
        assert bridges_before == []
    assert conductor.stop() == 0

    again = setup["start"]()
    assert again.ports["extra"] == port
    async with await Client.connect(f"ws://127.0.0.1:{again.ports['admin']}") as admin:
        assert [d["id"] for d in await admin.request("admin/dna/list", {})] == ["blog", "blog2"]
        assert [a["id"] for a in await admin.request("admin/agent/list", {})] == ["alice", "bob"]
        assert [i["id"] for i in await admin.request("admin/instance/running", {})] == ["app", "app2"]
    async with await Client.connect(f"ws://127.0.0.1:{port}") as extra:
        got = await extra.call_zome("b2", "blog", "get_post", {"post_address": post["Ok"]})
        assert got == {"Ok": {"App": ["post", '{"content":"kept","date_created":"now"}']}}


async def test_removals_and_their_errors(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        await expect_error(
            admin, "admin/agent/remove", {"id": "nobody"}, -32603, "Agent with ID 'nobody' does not exist"
        )
        await expect_error(admin, "admin/interface/remove", {"id": "nope"}, -32603, "No such interface: 'nope'")
        await expect_error(
            admin,
            "admin/interface/remove_instance",
            {"interface_id": "app-ws", "instance_id": "x"},
            -32603,
            "No Instance 'x' in interface 'app-ws'",
        )
        await expect_error(
            admin,
            "admin/interface/add_instance",
            {"interface_id": "app-ws", "instance_id": "app"},
            -32603,
            "Instance 'app' already in interface 'app-ws'",
        )
        await expect_error(
            admin,
            "admin/interface/add_instance",
            {"interface_id": "zz", "instance_id": "app"},
            -32603,
            "Interface with ID zz not found",
        )
        await expect_error(
            admin,
            "admin/bridge/remove",
            {"caller_id": "a", "callee_id": "b"},
            -32603,
            "Bridge from instance 'a' to instance 'b' does not exist",
        )
        await expect_error(
            admin, "admin/instance/stop", {"id": "nope"}, -32603, "Holochain Instance Error: Instance does not exist"
        )
        assert await admin.request("admin/instance/stop", {"id": "app"}) == {"success": True}
        await expect_error(
            admin,
            "admin/instance/stop",
            {"id": "app"},
            -32603,
            "Holochain Instance Error: Holochain instance is not active yet.",
        )
        assert await admin.request("admin/instance/running", {}) == []
        async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['app-ws']}") as app:
            await expect_error(
                app,
                "call",
                {"instance_id": "blog-app", "zome": "blog", "function": "get_post", "args": {"post_address": "x"}},
                -32602,
                "Holochain Instance Error: Holochain instance is not active yet.",
            )
            # removing the agent removes its instance (and its interface references)
            assert await admin.request("admin/agent/remove", {"id": "alice"}) == {"success": True}
            await expect_error(
                app,
                "call",
                {"instance_id": "blog-app", "zome": "blog", "function": "get_post", "args": {}},
                -32602,
                'instance identifier invalid: PublicInstanceIdentifier("blog-app")',
            )
        assert await admin.request("admin/instance/list", {}) == []
        assert await admin.request("admin/dna/uninstall", {"id": "blog"}) == {"success": True}
        assert await admin.request("admin/dna/list", {}) == []
        assert await admin.request("admin/interface/remove", {"id": "app-ws"}) == {"success": True}
    doc = saved(setup)
    assert doc["agents"] == [] and doc["dnas"] == [] and doc["instances"] == []
    assert [i["id"] for i in doc["interfaces"]] == ["admin"]


async def test_wrong_params_get_holochain_rust_errors_and_change_nothing(setup):
    conductor = setup["start"]()
    before = (setup["data"] / "conductor-config.toml").read_text()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        await expect_error(admin, "admin/dna/install_from_file", None, -32602, "expected params map")
        await expect_error(admin, "admin/dna/install_from_file", ["x"], -32602, "expected params map")
        await expect_error(admin, "admin/dna/install_from_file", {"id": "x"}, -32602, "`path` param not provided")
        await expect_error(
            admin, "admin/dna/install_from_file", {"id": 3, "path": "p"}, -32602, "`id` is not a valid json string"
        )
        await expect_error(
            admin,
            "admin/dna/install_from_file",
            {"id": "x", "path": "p", "expected_hash": 5},
            -32602,
            "`5` is not a valid json string",
        )
        missing = setup["tmp"] / "missing.dna.json"
        with pytest.raises(RpcError) as err:
            await admin.request("admin/dna/install_from_file", {"id": "x", "path": str(missing)})
        assert err.value.code == -32603 and err.value.message.startswith(f'Could not load DNA file "{missing}"')
        await expect_error(
            admin,
            "admin/dna/install_from_file",
            {"id": "x", "path": str(setup["blog"]), "expected_hash": "QmWrong"},
            -32603,
            f"Provided DNA hash does not match actual DNA hash! QmWrong != {dna_hash(setup['blog'])}",
        )
        await expect_error(
            admin,
            "admin/dna/install_from_file",
            {"id": "x", "path": str(setup["blog"]), "properties": {"a": 1}},
            -32603,
            "Cannot install DNA with properties unless copy flag is true",
        )
        await expect_error(
            admin,
            "admin/dna/install_from_file",
            {"id": "blog", "path": str(setup["blog"])},
            -32603,
            "Duplicate dna IDs detected: blog",
        )
        await expect_error(
            admin,
            "admin/instance/add",
            {"id": "i", "dna_id": "nope", "agent_id": "alice"},
            -32603,
            'DNA configuration "nope" not found, mentioned in instance "i"',
        )
        await expect_error(
            admin,
            "admin/instance/add",
            {"id": "i", "dna_id": "blog", "agent_id": "zed"},
            -32603,
            "Agent configuration zed not found, mentioned in instance i",
        )
        await expect_error(
            admin,
            "admin/instance/add",
            {"id": "i", "dna_id": "blog", "agent_id": "alice", "storage": "floppy"},
            -32603,
            "Invalid storage option: floppy",
        )
        await expect_error(
            admin,
            "admin/instance/add",
            {"id": "app", "dna_id": "blog", "agent_id": "alice"},
            -32603,
            "Duplicate instance IDs detected: app",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "i", "type": "websocket", "port": 1},
            -32602,
            "`admin` param not provided",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "i", "admin": "yes", "type": "websocket", "port": 1},
            -32602,
            "`admin` has to be a boolean",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "i", "admin": False, "type": "pigeon", "port": 1},
            -32602,
            "`type` has to be either `websocket` or `http`",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "i", "admin": False, "type": "http", "port": 70000},
            -32602,
            "`port` has to be a 16bit integer",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "i", "admin": False, "type": "http", "port": "80"},
            -32602,
            "`port` has to be an integer",
        )
        await expect_error(
            admin,
            "admin/interface/add",
            {"id": "admin", "admin": False, "type": "http", "port": 0},
            -32603,
            "Interface with ID 'admin' already exists",
        )
        await expect_error(
            admin,
            "admin/agent/add",
            {"id": "x", "name": "x", "holo_remote_key": 1},
            -32602,
            "holo_remote_key must be a string",
        )
        await expect_error(
            admin, "test/agent/add", {"id": "alice", "name": "a"}, -32603, "Agent with ID 'alice' already exists"
        )
        await expect_error(
            admin,
            "admin/bridge/add",
            {"caller_id": "app", "callee_id": "zz", "handle": "h"},
            -32603,
            'Instance configuration "zz" not found, mentioned in bridge',
        )
        await expect_error(
            admin,
            "admin/bridge/add",
            {"caller_id": "app", "callee_id": "app", "handle": "h"},
            -32603,
            "Cyclic dependency in bridge configuration",
        )
        await expect_error(
            admin, "admin/ui/uninstall", {"id": "nope"}, -32603, 'No UI bundles match the given ID "nope"'
        )
        await expect_error(
            admin,
            "debug/state_dump",
            {"instance_id": "nope"},
            -32603,
            "Holochain Instance Error: Instance does not exist",
        )
        # and the conductor still serves, with nothing changed
        assert [d["id"] for d in await admin.request("admin/dna/list", {})] == ["blog"]
    assert (setup["data"] / "conductor-config.toml").read_text() == before


async def test_a_port_in_use_is_refused_and_nothing_changes(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        taken = conductor.ports["app-ws"]
        with pytest.raises(RpcError) as err:
            await admin.request(
                "admin/interface/add", {"id": "dup", "admin": False, "type": "websocket", "port": taken}
            )
        assert err.value.code == -32603
        assert err.value.message == f"interface 'dup': cannot listen on port {taken}: Address already in use"
        assert [i["id"] for i in await admin.request("admin/interface/list", {})] == ["admin", "app-ws"]


async def test_debug_views_and_agent_with_keystore(setup, monkeypatch):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        created = await admin.call_zome("app", "blog", "create_post", {"content": "dumped"})
        dump = await admin.request("debug/state_dump", {"instance_id": "app"})
        assert set(dump) == {
            "queued_calls",
            "running_calls",
            "call_results",
            "query_flows",
            "validation_package_flows",
            "direct_message_flows",
            "queued_holding_workflows",
            "in_process_holding_workflows",
            "held_aspects",
            "source_chain",
            "eavis",
        }
        types = [record[0]["header"]["entry_type"] for record in dump["source_chain"]]
        assert types == ["AgentId", "CapTokenGrant", {"App": "post"}]  # Dna omitted, oldest first
        assert dump["source_chain"][-1][0]["header"]["entry_address"] == created["Ok"]
        assert (await admin.request("debug/state_dump", {"instance_id": "app", "source_chain": False}))[
            "source_chain"
        ] == []
        cas = await admin.request("debug/fetch_cas", {"instance_id": "app", "address": created["Ok"]})
        assert cas == {"type": "post", "content": '{"content":"dumped","date_created":"now"}'}
        await expect_error(
            admin,
            "debug/fetch_cas",
            {"instance_id": "app", "address": "QmNothing"},
            -32603,
            "Holochain Instance Error: The requested entry could not be found locally",
        )
        meta = await admin.request("admin/instance/get_meta", {"id": "app", "hash": created["Ok"]})
        assert meta["headers"] == [dump["source_chain"][-1][1]]
        # admin/agent/add writes an encrypted keystore under persistence_dir/storage; the
        # passphrase service is the default `cmd`, whose standard input here is empty
        with pytest.raises(RpcError) as err:
            await admin.request("admin/agent/add", {"id": "carol", "name": "carol"})
        assert "passphrase_service (cmd)" in err.value.message
        assert [a["id"] for a in await admin.request("admin/agent/list", {})] == ["alice"]


async def test_instance_stats_count_what_a_persistent_instance_holds(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        await admin.call_zome("app", "blog", "create_post", {"content": "counted"})
        for _ in range(20):  # stats frames come every 500 ms; the post shows once it is on disk
            frame = await asyncio.wait_for(admin.signals.get(), 5)
            if "instance_stats" in frame and frame["instance_stats"]["app"]["number_held_entries"] == 4:
                break
        else:
            raise AssertionError(f"last stats: {frame}")
        assert frame["instance_stats"]["app"]["number_held_aspects"] == 4


async def test_an_instance_removed_with_its_agent_can_be_added_again_on_the_same_storage(setup):
    conductor = setup["start"]()
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        post = await admin.call_zome("app", "blog", "create_post", {"content": "first life"})
        await admin.request("admin/agent/remove", {"id": "alice"})
        assert await admin.request("debug/running_instances", {}) == []
        await admin.request("test/agent/add", {"id": "alice", "name": "alice"})
        await admin.request("admin/instance/add", {"id": "app", "dna_id": "blog", "agent_id": "alice"})
        await admin.request("admin/instance/start", {"id": "app"})
        await admin.request("admin/interface/add_instance", {"interface_id": "admin", "instance_id": "app"})
        assert await admin.request("admin/instance/running", {}) == [{"id": "app", "dna": "blog", "agent": "alice"}]
        # a new storage directory (persistence_dir/storage/app): a fresh chain for the same agent
        got = await admin.call_zome("app", "blog", "get_post", {"post_address": post["Ok"]})
        assert got == {"Ok": None}
        again = await admin.call_zome("app", "blog", "create_post", {"content": "second life"})
        assert again["Ok"].startswith("Qm")
