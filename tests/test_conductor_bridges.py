"""Bridges: the conductor's side of a zome calling another instance through a handle.

The zome-side `hdk.call` is issue 3's; these tests drive the instance hook it will
use (`Instance.bridge_call`, set by the conductor) on a real conductor with real
instances, and the configuration checks through `holochain -c` and the admin API.
"""

from __future__ import annotations

import json
import tomllib

import pytest

from conductor_setup import (
    agent,
    dna,
    dna_hash,
    instance,
    interface,
    run_holochain,
    signal_dna,
    start_holochain,
    write_config,
)
from holochain.client import Client, RpcError
from holochain.conductor.conductor import Conductor
from holochain.conductor.config_file import parse_config
from holochain.instance.instance import InstanceError

ECHO = {
    "name": "echo",
    "inputs": [{"name": "value", "type": "str"}],
    "outputs": [{"name": "result", "type": "ZomeApiResult<str>"}],
}


def bridge_config(tmp_path, reference, presence="required", with_bridge=True) -> str:
    callee = signal_dna(tmp_path, "callee")
    caller = signal_dna(
        tmp_path, "caller", bridges=[{"presence": presence, "handle": "helper", "reference": reference}]
    )
    sections = [
        agent("alice"),
        agent("bob"),
        dna("callee", callee),
        dna("caller", caller),
        instance("callee", "callee", "bob", None),
        instance("caller", "caller", "alice", None),
        interface("admin", ["caller", "callee"], admin=True),
    ]
    if with_bridge:
        sections.append('[[bridges]]\ncaller_id = "caller"\ncallee_id = "callee"\nhandle = "helper"\n')
    return write_config(tmp_path / "c.toml", tmp_path / "data", *sections)


@pytest.fixture
async def conductor(tmp_path):
    path = bridge_config(tmp_path, {"traits": {"hc_public": {"functions": [ECHO]}}})
    conductor = Conductor(parse_config(tomllib.loads(path.read_text())), base_dir=tmp_path)
    await conductor.boot()
    yield conductor
    await conductor.shutdown()


def rpc_error(exc: InstanceError) -> dict:
    return json.loads(str(exc))


async def test_a_bridge_call_reaches_the_callee_and_returns_its_result_text(conductor):
    caller = conductor.instances["caller"]
    assert caller.bridge_call("helper", "talk", "echo", {"value": "across"}) == '{"Ok":"across"}'


async def test_only_public_functions_are_reachable_through_a_bridge(conductor):
    caller = conductor.instances["caller"]
    with pytest.raises(InstanceError) as err:
        caller.bridge_call("helper", "talk", "private_echo", {"value": "x"})
    assert rpc_error(err.value) == {
        "code": -32602,
        "message": "Holochain Instance Error: Caller does not have Capability to make that call",
    }
    # the callee's own agent may call it directly, with its own address as the token
    callee = conductor.instances["callee"]
    assert callee.call("talk", "private_echo", {"value": "x"}, token=callee.agent.address) == '{"Ok":"x"}'


async def test_bridge_failures_come_back_as_holochain_rust_error_objects(conductor):
    caller = conductor.instances["caller"]
    with pytest.raises(InstanceError) as err:
        caller.bridge_call("nobody", "talk", "echo", {})
    assert rpc_error(err.value) == {
        "code": -32602,
        "message": 'instance identifier invalid: PublicInstanceIdentifier("nobody")',
    }
    with pytest.raises(InstanceError) as err:
        caller.bridge_call("helper", "talk", "no_such_fn", {})
    assert (
        rpc_error(err.value)["message"]
        == "Holochain Instance Error: Zome function 'no_such_fn' not found in Zome 'talk'"
    )
    conductor.stop_instance("callee")
    with pytest.raises(InstanceError) as err:
        caller.bridge_call("helper", "talk", "echo", {"value": "x"})
    assert rpc_error(err.value)["message"] == "Holochain Instance Error: Holochain instance is not active yet."
    # the callee only: the bridge is the caller's, not the other way round
    with pytest.raises(InstanceError):
        conductor.instances["callee"].bridge_call("helper", "talk", "echo", {})


async def test_a_bridged_call_announces_consistency_for_the_callee(conductor):
    conductor.config.signals.consistency = True
    seen = []
    conductor.add_signal_listener(lambda instance_id, kind, frame: seen.append((instance_id, kind)))
    conductor.instances["caller"].bridge_call("helper", "talk", "echo", {"value": "x"})
    assert seen == [("callee", "Consistency"), ("callee", "Consistency")]


async def test_required_bridges_decide_start_order(tmp_path, spawn):
    callee_hash = dna_hash(signal_dna(tmp_path, "callee"))
    config = bridge_config(tmp_path, {"dna_address": "QmWrong"})
    done = run_holochain(config, tmp_path)
    assert done.returncode == 2
    assert (
        f"Bridge 'helper' of caller instance 'caller' requires callee to be DNA with hash 'QmWrong', but the "
        f"configured instance 'callee' runs DNA with hash '{callee_hash}'."
    ) in done.stderr

    # with the right address it runs; a stopped callee keeps the caller from starting
    config = bridge_config(tmp_path, {"dna_address": callee_hash})
    conductor = start_holochain(spawn, config, tmp_path)
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        assert await admin.request("admin/bridge/list", {}) == [
            {"caller_id": "caller", "callee_id": "callee", "handle": "helper"}
        ]
        await admin.request("admin/instance/stop", {"id": "caller"})
        await admin.request("admin/instance/stop", {"id": "callee"})
        with pytest.raises(RpcError) as err:
            await admin.request("admin/instance/start", {"id": "caller"})
        assert err.value.message == "Holochain Instance Error: Required bridge is not present/started: helper"
        await admin.request("admin/instance/start", {"id": "callee"})
        assert await admin.request("admin/instance/start", {"id": "caller"}) == {"success": True}
        # a required bridge cannot be removed
        with pytest.raises(RpcError) as err:
            await admin.request("admin/bridge/remove", {"caller_id": "caller", "callee_id": "callee"})
        assert err.value.message == "Required bridge 'helper' for instance 'caller' missing"


async def test_bridges_added_at_run_time_are_checked_against_both_dnas(tmp_path, spawn):
    config = bridge_config(
        tmp_path,
        {"traits": {"hc_public": {"functions": [{**ECHO, "inputs": [{"name": "value", "type": "int"}]}]}}},
        presence="optional",
        with_bridge=False,
    )
    conductor = start_holochain(spawn, config, tmp_path)
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        with pytest.raises(RpcError) as err:
            await admin.request("admin/bridge/add", {"caller_id": "caller", "callee_id": "callee", "handle": "helper"})
        assert err.value.message.startswith(
            "Bridge 'helper' of instance 'caller' requires callee to to implement trait 'hc_public' with functions: "
        )
        with pytest.raises(RpcError) as err:
            await admin.request("admin/bridge/add", {"caller_id": "caller", "callee_id": "callee", "handle": "other"})
        assert err.value.message == "No bridge definition with handle 'other' found in caller's DNA"
        assert await admin.request("admin/bridge/list", {}) == []
