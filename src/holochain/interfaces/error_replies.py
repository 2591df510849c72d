"""Where errors become JSON-RPC error replies: the one mapping, for every interface method.

holochain-rust's shapes, which clients match on:

* a zome call the instance refuses (:class:`~holochain.instance.instance.InstanceError`)
  reads ``Holochain Instance Error: <reason>`` — code ``-32602`` from ``call``,
  ``-32603`` from the admin methods (as holochain-rust's ``conductor_call!``);
* any other error the conductor raises on purpose (a
  :class:`~holochain.core.errors.HolochainPyError`) is ``-32603`` with its
  message;
* a :class:`~.jsonrpc.JsonRpcError` a method raised itself (a bad param) is
  sent as it is.

What is not a ``HolochainPyError`` is a bug: the dispatcher answers it with
``-32603 Internal error: <type>: <message>`` and logs it.
"""

from __future__ import annotations

from ..core.errors import HolochainPyError
from ..instance.call_zome import INSTANCE_ERROR_PREFIX, InstanceError
from .jsonrpc import INTERNAL_ERROR, JsonRpcError

__all__ = ["rpc_error"]


def rpc_error(exc: HolochainPyError, code: int = INTERNAL_ERROR) -> JsonRpcError:
    """The JSON-RPC error reply for ``exc`` (``code`` for errors that are not already replies)."""
    if isinstance(exc, JsonRpcError):
        return exc
    if isinstance(exc, InstanceError):
        return JsonRpcError(code, INSTANCE_ERROR_PREFIX + str(exc))
    return JsonRpcError(code, str(exc))
