"""The admin, test and debug methods of admin interfaces, in holochain-rust's words.

Each method reads its params with holochain-rust's helpers (their ``-32602``
messages), calls the conductor (:mod:`holochain.conductor.admin`) and, where
servers are involved, the :class:`~.service.ConductorService`.  Conductor
failures become ``-32603`` with the conductor's message, as holochain-rust's
``conductor_call!`` does; instance failures read
``Holochain Instance Error: <reason>``.

Unlike holochain-rust, adding or removing an instance of an interface does not
restart that interface: its method table is rebuilt in place, so no client is
disconnected and the port stays the same.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..conductor.conductor import ConductorError
from ..conductor.config import InterfaceConfig, UiInterfaceConfig
from ..conductor.ids import id_problem
from ..core.errors import HolochainPyError
from ..instance.instance import InstanceError
from .error_replies import rpc_error
from .jsonrpc import INVALID_PARAMS, JsonRpcError, Method
from .methods import get_bool, get_int, get_str, opt_str, params_map

if TYPE_CHECKING:
    from .service import ConductorService

__all__ = ["admin_methods"]

SUCCESS = {"success": True}


def _guard(fn: Callable[[Any], Any]) -> Method:
    """Map conductor errors of a method (sync or async) to ``-32603`` (:func:`.error_replies.rpc_error`)."""

    def method(params: Any) -> Any:
        try:
            result = fn(params)
        except HolochainPyError as exc:
            raise rpc_error(exc) from None
        if inspect.isawaitable(result):
            return _guard_async(result)
        return result

    return method


async def _guard_async(result: Awaitable[Any]) -> Any:
    try:
        return await result
    except HolochainPyError as exc:
        raise rpc_error(exc) from None


def _serialized(fn: Callable[[Any], Any], lock: asyncio.Lock) -> Callable[[Any], Any]:
    """One configuration change at a time: a change that waits (for a keystore, a
    new instance's genesis, a server) must not interleave with another."""

    async def method(params: Any) -> Any:
        async with lock:
            result = fn(params)
            if inspect.isawaitable(result):
                result = await result
            return result

    return method


def get_id(p: dict[str, Any], key: str, kind: str) -> str:
    """A string param that names (or will name) something: it must follow the one id rule."""
    value = get_str(p, key)
    problem = id_problem(kind, value)
    if problem is not None:
        raise JsonRpcError(INVALID_PARAMS, f"`{key}`: {problem}")
    return value


Param = Callable[[dict[str, Any]], Any]


def id_param(key: str, kind: str) -> Param:
    return lambda p: get_id(p, key, kind)


def str_param(key: str) -> Param:
    return lambda p: get_str(p, key)


def opt_str_param(key: str) -> Param:
    return lambda p: opt_str(p, key)


def _port(p: dict[str, Any]) -> int:
    port = get_int(p, "port")
    if not 0 <= port <= 65535:
        raise JsonRpcError(INVALID_PARAMS, "`port` has to be a 16bit integer")
    return port


def admin_methods(service: ConductorService) -> dict[str, Method]:
    """The methods only admin interfaces have."""
    conductor = service.conductor
    admin = conductor.admin

    def changed(result: Any = SUCCESS) -> Any:
        service.refresh()
        return result

    def change(call: Callable[..., Any], *params: Param, answer: Callable[[Any], Any] = lambda _: SUCCESS) -> Method:
        """The admin change every simple method is: read the params (holochain-rust's messages),
        call the conductor (waiting if it waits; it saves the configuration), then rebuild the
        interfaces' method tables and answer."""

        def method(raw: Any) -> Any:
            p = params_map(raw)
            result = call(*(read(p) for read in params))
            if inspect.isawaitable(result):
                return _then(result)
            return changed(answer(result))

        async def _then(result: Awaitable[Any]) -> Any:
            return changed(answer(await result))

        return method

    def query(call: Callable[..., Any], *params: Param) -> Method:
        """A read-only method: read the params, answer what the conductor says."""
        return lambda raw: call(*(read(params_map(raw)) for read in params))

    # -- DNAs ---------------------------------------------------------------------------

    async def dna_install(params: Any) -> Any:
        p = params_map(params)
        dna_id = get_id(p, "id", "dna")
        path = get_str(p, "path")
        copy = p.get("copy") is True
        expected = p.get("expected_hash")
        if expected is not None and not isinstance(expected, str):
            raise JsonRpcError(INVALID_PARAMS, f"`{orjson.dumps(expected).decode()}` is not a valid json string")
        dna_hash = await admin.install_dna_from_file(
            dna_id, path, copy=copy, expected_hash=expected, properties=p.get("properties"), uuid=opt_str(p, "uuid")
        )
        return changed({"success": True, "dna_hash": dna_hash})

    def dna_list(params: Any) -> Any:
        return [{"id": d.id, "hash": d.hash} for d in conductor.config.dnas]

    # -- instances ------------------------------------------------------------------------

    def instance_start(params: Any) -> Any:
        conductor.start_instance(get_str(params_map(params), "id"))
        return SUCCESS

    def instance_stop(params: Any) -> Any:
        conductor.stop_instance(get_str(params_map(params), "id"))
        return SUCCESS

    def instance_list(params: Any) -> Any:
        return [i.summary() for i in conductor.config.instances]

    def instance_running(params: Any) -> Any:
        return [
            i.summary()
            for i in conductor.config.instances
            if (inst := conductor.instances.get(i.id)) is not None and inst.active
        ]

    # -- interfaces -----------------------------------------------------------------------

    async def interface_add(params: Any) -> Any:
        p = params_map(params)
        interface_id = get_id(p, "id", "interface")
        is_admin = get_bool(p, "admin")
        kind = get_str(p, "type")
        if kind not in ("websocket", "http"):
            raise JsonRpcError(INVALID_PARAMS, "`type` has to be either `websocket` or `http`")
        port = _port(p)
        iface = InterfaceConfig(interface_id, {"type": kind, "port": port}, admin=is_admin)
        admin.add_interface_config(iface)
        try:
            await service.start_interface(iface)
        except ConductorError:
            admin.remove_interface_config(interface_id)
            raise
        return changed()

    async def interface_remove(params: Any) -> Any:
        interface_id = get_str(params_map(params), "id")
        admin.remove_interface_config(interface_id)
        changed()
        service.stop_interface_soon(interface_id)
        return SUCCESS

    def interface_list(params: Any) -> Any:
        return [i.to_json() for i in conductor.config.interfaces]

    # -- agents ---------------------------------------------------------------------------

    async def agent_add(params: Any) -> Any:
        p = params_map(params)
        agent_id, name = get_id(p, "id", "agent"), get_str(p, "name")
        remote = p.get("holo_remote_key")
        if remote is not None and not isinstance(remote, str):
            raise JsonRpcError(INVALID_PARAMS, "holo_remote_key must be a string")
        await admin.add_agent(agent_id, name, remote)
        return changed()

    def agent_list(params: Any) -> Any:
        return [a.to_json() for a in conductor.config.agents]

    # -- bridges --------------------------------------------------------------------------

    def bridge_list(params: Any) -> Any:
        return [
            {"caller_id": b.caller_id, "callee_id": b.callee_id, "handle": b.handle} for b in conductor.config.bridges
        ]

    # -- UI bundles and UI interfaces -------------------------------------------------------

    async def ui_uninstall(params: Any) -> Any:
        removed = admin.uninstall_ui(get_str(params_map(params), "id"))
        for ui_id in removed:
            await service.stop_ui_interface(ui_id)
        return changed()

    def ui_list(params: Any) -> Any:
        return [{"id": b.id, "root_dir": b.root_dir, "hash": b.hash} for b in conductor.config.ui_bundles]

    def ui_interface_add(params: Any) -> Any:
        p = params_map(params)
        ui = UiInterfaceConfig(
            id=get_id(p, "id", "UI interface"),
            port=_port(p),
            bundle=get_id(p, "bundle", "UI bundle"),
            dna_interface=opt_str(p, "dna_interface"),
        )
        admin.add_ui_interface(ui)
        return changed()

    async def ui_interface_remove(params: Any) -> Any:
        ui_id = get_str(params_map(params), "id")
        admin.remove_ui_interface(ui_id)
        await service.stop_ui_interface(ui_id)
        return changed()

    async def ui_interface_start(params: Any) -> Any:
        ui_id = get_str(params_map(params), "id")
        ui = next((u for u in conductor.config.ui_interfaces if u.id == ui_id), None)
        if ui is None:
            raise InstanceError("Instance does not exist")
        if ui_id in service.ui_servers:
            raise InstanceError("server is already started")
        await service.start_ui_interface(ui)
        return SUCCESS

    async def ui_interface_stop(params: Any) -> Any:
        ui_id = get_str(params_map(params), "id")
        if not any(u.id == ui_id for u in conductor.config.ui_interfaces):
            raise InstanceError("Instance does not exist")
        if ui_id not in service.ui_servers:
            raise InstanceError("server is already stopped")
        await service.stop_ui_interface(ui_id)
        return SUCCESS

    def ui_interface_list(params: Any) -> Any:
        return [
            {
                "id": u.id,
                "bundle": u.bundle,
                "port": u.port,
                "dna_interface": u.dna_interface,
                "reroute_to_root": u.reroute_to_root,
                "bind_address": u.bind_address,
            }
            for u in conductor.config.ui_interfaces
        ]

    # -- debug ----------------------------------------------------------------------------

    def running_instances(params: Any) -> Any:
        return list(conductor.instances)

    def state_dump(params: Any) -> Any:
        p = params_map(params)
        instance_id = get_str(p, "instance_id")
        return admin.state_dump(instance_id, source_chain=p.get("source_chain") is not False)

    table = {
        "admin/dna/install_from_file": dna_install,
        "admin/dna/uninstall": change(admin.uninstall_dna, str_param("id")),
        "admin/dna/list": dna_list,
        "admin/instance/add": change(
            admin.add_instance,
            id_param("id", "instance"),
            id_param("dna_id", "dna"),
            id_param("agent_id", "agent"),
            opt_str_param("storage"),
        ),
        "admin/instance/remove": change(admin.remove_instance, str_param("id")),
        "admin/instance/start": instance_start,
        "admin/instance/stop": instance_stop,
        "admin/instance/list": instance_list,
        "admin/instance/running": instance_running,
        "admin/instance/get_meta": query(admin.get_meta, str_param("id"), str_param("hash")),
        "admin/interface/add": interface_add,
        "admin/interface/remove": interface_remove,
        "admin/interface/add_instance": change(
            admin.add_instance_to_interface_config,
            id_param("interface_id", "interface"),
            id_param("instance_id", "instance"),
            opt_str_param("alias"),
        ),
        "admin/interface/remove_instance": change(
            admin.remove_instance_from_interface_config, str_param("interface_id"), str_param("instance_id")
        ),
        "admin/interface/list": interface_list,
        "admin/agent/add": agent_add,
        "admin/agent/remove": change(admin.remove_agent, str_param("id")),
        "admin/agent/list": agent_list,
        "admin/bridge/add": change(
            admin.add_bridge,
            id_param("caller_id", "instance"),
            id_param("callee_id", "instance"),
            id_param("handle", "bridge handle"),
        ),
        "admin/bridge/remove": change(admin.remove_bridge, str_param("caller_id"), str_param("callee_id")),
        "admin/bridge/list": bridge_list,
        "admin/ui/install": change(admin.install_ui, id_param("id", "UI bundle"), str_param("root_dir")),
        "admin/ui/uninstall": ui_uninstall,
        "admin/ui/list": ui_list,
        "admin/ui_interface/add": ui_interface_add,
        "admin/ui_interface/remove": ui_interface_remove,
        "admin/ui_interface/start": ui_interface_start,
        "admin/ui_interface/stop": ui_interface_stop,
        "admin/ui_interface/list": ui_interface_list,
        "test/agent/add": change(
            admin.add_test_agent,
            id_param("id", "agent"),
            str_param("name"),
            answer=lambda address: {"agent_address": address},
        ),
        "debug/running_instances": running_instances,
        "debug/state_dump": state_dump,
        "debug/fetch_cas": query(admin.fetch_cas, str_param("instance_id"), str_param("address")),
    }
    lock = service.admin_lock
    return {
        name: _guard(
            fn
            if name.endswith(("/list", "/running", "/get_meta")) or name.startswith("debug/")
            else _serialized(fn, lock)
        )
        for name, fn in table.items()
    }
