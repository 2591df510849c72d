"""JSON-RPC 2.0, transport-free: bytes in, bytes (or nothing) out.

The WebSocket and HTTP servers both hand every message to a
:class:`Dispatcher` and send back what it returns.  It follows the JSON-RPC
2.0 specification, and holochain-rust's conductor where the specification
leaves room:

* malformed JSON → ``-32700 Parse error`` (``id: null``);
* a request without ``"jsonrpc": "2.0"``, with unknown members, with a
  ``method`` that is not a string, ``params`` that are neither object, array
  nor null, or an ``id`` that is not a string, number or null →
  ``-32600 Invalid request`` (holochain-rust answers a missing version with
  ``Unsupported JSON-RPC protocol version`` and no ``jsonrpc`` member; so do we);
* an unknown method → ``-32601 Method not found``;
* ids are echoed exactly as sent;
* a notification (no ``id``) is executed and gets no reply;
* a batch is answered with an array of the replies to its requests (none if
  all were notifications); an empty batch is an invalid request.

A method returns its result, or an awaitable of it when it has to wait; the
dispatcher then returns an awaitable too, so quick methods never cost a task.
When that awaitable is an :class:`asyncio.Future` (a committing zome call
waiting for its group commit), the reply is a future as well, completed by a
callback: no coroutine and no task per call.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from time import perf_counter
from typing import Any

import orjson

from ..core.errors import InterfaceError

__all__ = [
    "Dispatcher",
    "Batch",
    "JsonRpcError",
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_ERROR",
    "Method",
]

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

_ALLOWED_KEYS = frozenset({"jsonrpc", "method", "params", "id"})
_NO_ID = object()

Method = Callable[[Any], Any]


class JsonRpcError(InterfaceError):
    """A JSON-RPC error reply: ``{"code": code, "message": message}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _error(code: int, message: str, id_: Any, versioned: bool = True) -> dict[str, Any]:
    reply: dict[str, Any] = {"jsonrpc": "2.0"} if versioned else {}
    reply["error"] = {"code": code, "message": message}
    reply["id"] = id_
    return reply


_PARSE_ERROR_REPLY = orjson.dumps(_error(PARSE_ERROR, "Parse error", None))


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


class Dispatcher:
    """Routes JSON-RPC requests to a table of methods."""

    def __init__(self, methods: Mapping[str, Method], *, max_batch: int = 1000) -> None:
        self.methods = dict(methods)
        self.max_batch = max_batch

    def handle(self, data: bytes | str) -> bytes | Awaitable[bytes | None] | None:
        """Answer one message: reply bytes, ``None`` (no reply), or an awaitable of either."""
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            return _PARSE_ERROR_REPLY
        if isinstance(message, list):
            return self._batch(message)
        reply = self._one(message, encoded=True)
        if reply is None or isinstance(reply, (bytes, asyncio.Future)):
            return reply
        if isinstance(reply, dict):
            return orjson.dumps(reply)
        return _encode_later(reply)

    def _batch(self, messages: list[Any]) -> bytes | Awaitable[bytes | None] | None:
        if not messages:
            return orjson.dumps(_error(INVALID_REQUEST, "Invalid request", None))
        if len(messages) > self.max_batch:
            return orjson.dumps(
                _error(INVALID_REQUEST, f"Invalid request: a batch may hold at most {self.max_batch} requests", None)
            )
        return Batch(self, messages)

    def _one(self, message: Any, encoded: bool = False) -> Any:
        """The reply to one request: a dict, None, or an awaitable of either (a future of the
        encoded reply when ``encoded`` and the method answered with a future)."""
        if not isinstance(message, dict):
            return _error(INVALID_REQUEST, "Invalid request", None)
        id_ = message.get("id", _NO_ID)
        reply_id = None if id_ is _NO_ID or not _valid_id(id_) else id_
        if "jsonrpc" not in message:
            return _error(INVALID_REQUEST, "Unsupported JSON-RPC protocol version", reply_id, versioned=False)
        if (
            message["jsonrpc"] != "2.0"
            or not _ALLOWED_KEYS.issuperset(message)
            or not isinstance(message.get("method"), str)
            or not _valid_id(message.get("id"))
        ):
            return _error(INVALID_REQUEST, "Invalid request", reply_id)
        params = message.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return _error(INVALID_REQUEST, "Invalid request", reply_id)
        notification = id_ is _NO_ID
        method = self.methods.get(message["method"])
        if method is None:
            return None if notification else _error(METHOD_NOT_FOUND, "Method not found", id_)
        try:
            result = method(params)
        except JsonRpcError as exc:
            return None if notification else _error(exc.code, exc.message, id_)
        except Exception as exc:  # a bug in a method: answer, log, keep serving
            log.exception("JSON-RPC method %s failed", message["method"])
            return None if notification else _error(INTERNAL_ERROR, f"Internal error: {type(exc).__name__}: {exc}", id_)
        if isinstance(result, asyncio.Future) and encoded:
            out = result.get_loop().create_future()
            result.add_done_callback(partial(_finish_future, out, id_, notification, message["method"]))
            return out
        if inspect.isawaitable(result):
            return _finish(result, id_, notification, message["method"])
        if notification:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": id_}


def _finish_future(
    out: asyncio.Future[bytes | None], id_: Any, notification: bool, name: str, result: asyncio.Future[Any]
) -> None:
    """``_finish`` as a done-callback: the encoded reply once ``result`` is done."""
    if out.done():
        return
    if result.cancelled():
        out.cancel()
        return
    exc = result.exception()
    if exc is None:
        reply: dict[str, Any] | None = {"jsonrpc": "2.0", "result": result.result(), "id": id_}
    elif isinstance(exc, JsonRpcError):
        reply = _error(exc.code, exc.message, id_)
    elif isinstance(exc, Exception):
        log.error("JSON-RPC method %s failed", name, exc_info=exc)
        reply = _error(INTERNAL_ERROR, f"Internal error: {type(exc).__name__}: {exc}", id_)
    else:
        out.set_exception(exc)
        return
    out.set_result(None if notification else orjson.dumps(reply))


async def _finish(result: Awaitable[Any], id_: Any, notification: bool, name: str) -> dict[str, Any] | None:
    try:
        value = await result
    except JsonRpcError as exc:
        return None if notification else _error(exc.code, exc.message, id_)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("JSON-RPC method %s failed", name)
        return None if notification else _error(INTERNAL_ERROR, f"Internal error: {type(exc).__name__}: {exc}", id_)
    return None if notification else {"jsonrpc": "2.0", "result": value, "id": id_}


async def _encode_later(reply: Awaitable[dict[str, Any] | None]) -> bytes | None:
    done = await reply
    return None if done is None else orjson.dumps(done)


class Batch:
    """A batch's requests, run one member at a time as separate requests would be.

    Awaiting it runs every member.  A WebSocket server calls :meth:`admit`
    with its connection's ``max_in_flight`` semaphore instead, in its reading
    loop: each member takes a place before it starts and gives it back when
    its answer is ready, and the connection reads nothing more while members
    wait for places, so a batch of 20,000 waiting calls holds no more than the
    bound.  Between members that kept the event loop busy the batch lets what
    became ready meanwhile (other connections' requests) run first.
    """

    __slots__ = ("dispatcher", "messages")

    def __init__(self, dispatcher: Dispatcher, messages: list[Any]) -> None:
        self.dispatcher = dispatcher
        self.messages = messages

    def __await__(self) -> Any:
        return self._run().__await__()

    async def _run(self) -> bytes | None:
        return await self.answer(await self.admit())

    async def admit(self, slots: asyncio.Semaphore | None = None) -> list[Any]:
        """Start every member (taking a place of ``slots`` each); their replies or awaitables."""
        started: list[Any] = []
        burst = perf_counter()
        try:
            for message in self.messages:
                if slots is not None:
                    await slots.acquire()
                reply = self.dispatcher._one(message)
                if inspect.isawaitable(reply):
                    fut = asyncio.ensure_future(reply)
                    if slots is not None:
                        fut.add_done_callback(lambda _f: slots.release())
                    started.append(fut)
                else:
                    if slots is not None:
                        slots.release()
                    started.append(reply)
                if perf_counter() - burst > _TURN_S:
                    await _others_turn()
                    burst = perf_counter()
        except BaseException:
            _cancel(started)
            raise
        return started

    @staticmethod
    async def answer(started: list[Any]) -> bytes | None:
        """The batch's reply, once every member has answered."""
        done = []
        try:
            for reply in started:
                if isinstance(reply, asyncio.Future):
                    reply = await reply
                if reply is not None:
                    done.append(reply)
        except BaseException:
            _cancel(started)
            raise
        return orjson.dumps(done) if done else None


def _cancel(started: list[Any]) -> None:
    for reply in started:
        if isinstance(reply, asyncio.Future):
            reply.cancel()


# A batch runs members back to back for at most this long before it lets others run.
_TURN_S = 0.0005


async def _others_turn() -> None:
    """Let the event loop run what is ready now and what that readies in turn.

    One ``sleep(0)`` is not enough: this task would run first again in the next round, before
    the handler that a socket read (in that round) woke; that handler then dispatches the
    request it read in the round after.  A few rounds let other connections' requests that
    arrived meanwhile start before the next member.
    """
    for _ in range(_ROUNDS):
        await asyncio.sleep(0)


_ROUNDS = 4
