"""The methods an interface exposes: ``info/instances`` and ``call`` on every
interface, the admin, test and debug methods on admin interfaces only.

Each interface gets its own method table, built from its configuration when
it starts (as holochain-rust does): instances are reachable under their alias
there, and only the instances the interface lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..conductor.conductor import Conductor
from ..conductor.config import InterfaceConfig
from ..core.rust_text import rust_debug_str
from ..instance.instance import InstanceError
from ..ribosome.host_api import ZomeCallReply
from .error_replies import rpc_error
from .jsonrpc import INVALID_PARAMS, JsonRpcError, Method

__all__ = ["interface_methods", "params_map", "get_str", "get_bool", "get_int", "opt_str"]

_MISSING = object()


# -- holochain-rust's parameter helpers (their -32602 messages) ------------------------------


def params_map(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise JsonRpcError(INVALID_PARAMS, "expected params map")
    return params


def _required(params: dict[str, Any], key: str, ok: Callable[[Any], bool], problem: str) -> Any:
    """``params[key]`` if present and ``ok``; else holochain-rust's message for it."""
    if key not in params:
        raise JsonRpcError(INVALID_PARAMS, f"`{key}` param not provided")
    value = params[key]
    if not ok(value):
        raise JsonRpcError(INVALID_PARAMS, f"`{key}` {problem}")
    return value


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_str(params: dict[str, Any], key: str) -> str:
    return _required(params, key, _is_str, "is not a valid json string")


def get_bool(params: dict[str, Any], key: str) -> bool:
    return _required(params, key, _is_bool, "has to be a boolean")


def get_int(params: dict[str, Any], key: str) -> int:
    return _required(params, key, _is_int, "has to be an integer")


def opt_str(params: dict[str, Any], key: str) -> str | None:
    """An optional string param; holochain-rust ignores one of another type."""
    value = params.get(key)
    return value if isinstance(value, str) else None


# -- call ------------------------------------------------------------------------------------


def _provenance(value: Any) -> list[str]:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value
    raise JsonRpcError(INVALID_PARAMS, "invalid provenance: expected [source address, signature], two strings")


def make_call_method(conductor: Conductor, exposed: dict[str, str]) -> Method:
    """``call``: checks in holochain-rust's order, errors in its words."""

    def call(params: Any) -> ZomeCallReply:
        p = params_map(params)
        name = get_str(p, "instance_id")
        zome = get_str(p, "zome")
        function = get_str(p, "function")
        args = p.get("args", _MISSING)
        if args is _MISSING:
            args = None  # the zome sees JSON null
        elif args is None:
            args = {}
        instance_id = exposed.get(name)
        if instance_id is None:
            raise JsonRpcError(
                INVALID_PARAMS, f"instance identifier invalid: PublicInstanceIdentifier({rust_debug_str(name)})"
            )
        token = p.get("token")
        if not isinstance(token, str):
            token = None
        provenance = _provenance(p["provenance"]) if "provenance" in p else None
        try:
            result = conductor.call_zome(instance_id, zome, function, args, token=token, provenance=provenance)
        except InstanceError as exc:
            raise rpc_error(exc, INVALID_PARAMS) from None
        if isinstance(result, (str, asyncio.Future)):
            return result  # a future only waits for durability: it fails with nothing but storage errors
        return _instance_errors(result)

    return call


async def _instance_errors(result: Awaitable[str]) -> str:
    try:
        return await result
    except InstanceError as exc:
        raise rpc_error(exc, INVALID_PARAMS) from None


def interface_methods(
    conductor: Conductor,
    iface: InterfaceConfig,
    admin_methods: dict[str, Method] | None = None,
) -> dict[str, Method]:
    """The method table of one interface."""
    exposed: dict[str, str] = {}
    infos: list[dict[str, str]] = []
    for ref in iface.instances:
        inst = conductor.config.instance(ref.id)
        if inst is None:
            continue
        exposed[ref.alias or ref.id] = ref.id
        if ref.id in conductor.instances:
            infos.append(inst.summary())
    methods: dict[str, Method] = {
        "info/instances": lambda params: infos,
        "call": make_call_method(conductor, exposed),
    }
    if iface.admin and admin_methods is not None:
        methods.update(admin_methods)
    return methods
