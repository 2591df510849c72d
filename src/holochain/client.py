"""A Python client for a conductor's WebSocket interface.

::

    async with await Client.connect("ws://localhost:8888") as client:
        print(await client.info_instances())
        result = await client.call_zome("test-instance", "blog", "create_post",
                                        {"content": "sample content"})
        print(result)          # {'Ok': 'Qm…'}

``call_zome`` decodes the JSON string a conductor answers ``call`` with;
``request`` sends any method (admin ones included) and returns the raw
result.  JSON-RPC errors raise :class:`RpcError`; signals pushed by the
conductor are queued on :attr:`Client.signals`.  :class:`SyncClient` wraps
it all for code that does not run an event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

import aiohttp
import orjson

from .core.errors import HolochainPyError

__all__ = ["Client", "SyncClient", "RpcError", "ClientError"]


class ClientError(HolochainPyError):
    """The connection failed or closed before an answer came."""


class RpcError(HolochainPyError):
    """The conductor answered with a JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (JSON-RPC error {code})")
        self.code = code
        self.message = message


class Client:
    """A JSON-RPC client of one conductor interface over WebSocket (``await Client.connect(url)``):
    calls, admin methods, and the signals the conductor pushes (:attr:`signals`)."""

    def __init__(
        self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, timeout: float | None
    ) -> None:
        self._session = session
        self._ws = ws
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.signals: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, *, timeout: float | None = 60.0, origin: str | None = None) -> Client:
        """Open a connection (``timeout`` bounds each request; None: wait forever)."""
        session = aiohttp.ClientSession()
        headers = {"Origin": origin} if origin else None
        try:
            ws = await session.ws_connect(url, max_msg_size=0, autoping=True, headers=headers)
        except (aiohttp.ClientError, OSError) as exc:
            await session.close()
            raise ClientError(f"cannot connect to {url}: {exc}") from exc
        return cls(session, ws, timeout)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    continue
                items = data if isinstance(data, list) else [data]
                for item in items:
                    if not isinstance(item, dict):
                        continue
                    if "signal" in item or "instance_stats" in item:
                        if not self.signals.full():
                            self.signals.put_nowait(item)
                        continue
                    fut = self._waiting.pop(item.get("id"), None)  # type: ignore[arg-type]
                    if fut is not None and not fut.done():
                        fut.set_result(item)
        finally:
            error = ClientError("the connection closed before the answer came")
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(error)
            self._waiting.clear()

    async def request(self, method: str, params: Any = None) -> Any:
        """Send one JSON-RPC request and return its ``result``."""
        request_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = fut
        message = {"jsonrpc": "2.0", "method": method, "params": params, "id": request_id}
        try:
            await self._ws.send_str(orjson.dumps(message).decode())
        except (ConnectionResetError, RuntimeError) as exc:
            self._waiting.pop(request_id, None)
            raise ClientError(f"cannot send: {exc}") from exc
        try:
            reply = await asyncio.wait_for(fut, self._timeout)
        except TimeoutError:
            self._waiting.pop(request_id, None)
            raise ClientError(f"no answer to {method} within {self._timeout}s") from None
        if "error" in reply:
            error = reply["error"]
            raise RpcError(error.get("code", 0), error.get("message", ""))
        return reply.get("result")

    async def info_instances(self) -> list[dict[str, str]]:
        return await self.request("info/instances", {})

    async def call_zome(
        self, instance_id: str, zome: str, function: str, args: Any = None, *, token: str | None = None
    ) -> Any:
        """Call a zome function; returns its decoded result (``{"Ok": …}`` / ``{"Err": …}``)."""
        params: dict[str, Any] = {
            "instance_id": instance_id,
            "zome": zome,
            "function": function,
            "args": {} if args is None else args,
        }
        if token is not None:
            params["token"] = token
        result = await self.request("call", params)
        return orjson.loads(result) if isinstance(result, str) else result

    async def close(self) -> None:
        await self._ws.close()
        await self._session.close()
        self._reader.cancel()


class SyncClient:
    """The same client for synchronous code: runs its own event loop in a thread."""

    def __init__(self, url: str, *, timeout: float | None = 60.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="holochain-client", daemon=True)
        self._thread.start()
        try:
            self._client: Client = self._run(Client.connect(url, timeout=timeout))
        except BaseException:
            self._stop()
            raise

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def request(self, method: str, params: Any = None) -> Any:
        return self._run(self._client.request(method, params))

    def info_instances(self) -> list[dict[str, str]]:
        return self._run(self._client.info_instances())

    def call_zome(
        self, instance_id: str, zome: str, function: str, args: Any = None, *, token: str | None = None
    ) -> Any:
        return self._run(self._client.call_zome(instance_id, zome, function, args, token=token))

    def close(self) -> None:
        try:
            self._run(self._client.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
