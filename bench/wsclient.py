"""Single JSON-RPC calls over WebSocket (aiohttp's client), for set-up steps
and for timing how soon a freshly started server answers.  The load itself
comes from the C generator (:mod:`bench.loadgen`), never from here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from .procs import BenchError

__all__ = ["rpc", "time_to_first_reply"]


async def _rpc(port: int, method: str, params: Any) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"ws://127.0.0.1:{port}/", autoping=False) as ws:
            await ws.send_str(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).decode())
            while True:  # a signal (a message without our id) may come first
                reply = orjson.loads(await asyncio.wait_for(ws.receive_str(), 30))
                if reply.get("id") == 1:
                    break
    if "error" in reply:
        raise BenchError(f"{method} failed: {reply['error']}")
    return reply["result"]


def rpc(port: int, method: str, params: Any) -> Any:
    """One call on a fresh connection; returns its result or raises BenchError."""
    return asyncio.run(_rpc(port, method, params))


async def _first_reply(port: int, method: str, since: float, timeout: float) -> tuple[float, float]:
    url = f"ws://127.0.0.1:{port}/"
    deadline = since + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                ws = await session.ws_connect(url, autoping=False)
            except (aiohttp.ClientConnectorError, aiohttp.WSServerHandshakeError, aiohttp.ServerDisconnectedError):
                if time.perf_counter() > deadline:
                    raise BenchError(
                        f"nothing accepted WebSocket connections on port {port} within {timeout:.0f} s"
                    ) from None
                await asyncio.sleep(0.002)
                continue
            accepted = time.perf_counter() - since
            async with ws:
                await ws.send_str(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}}).decode())
                await asyncio.wait_for(ws.receive_str(), timeout)
            return accepted, time.perf_counter() - since


def time_to_first_reply(port: int, method: str, since: float, timeout: float = 60.0) -> tuple[float, float]:
    """Poll ``port`` every 2 ms: seconds from ``since`` (a perf_counter time) until a
    WebSocket handshake succeeds, and until the first reply to ``method`` arrives."""
    return asyncio.run(_first_reply(port, method, since, timeout))
