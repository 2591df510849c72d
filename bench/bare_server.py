"""A bare Python JSON-RPC WebSocket server on the conductor's own stack
(aiohttp, orjson, uvloop) with trivial methods and nothing else.

It is the yardstick for what the conductor adds on top of its libraries:
start-up time, idle memory, and (as an extra row) the throughput ceiling of
the stack.  Prints ``listening <port>`` once it accepts connections.

    python -m bench.bare_server [port]     (0 or absent: any free port)
"""

from __future__ import annotations

import asyncio
import sys

import orjson
import uvloop
from aiohttp import WSMsgType, web

INSTANCES = [{"id": "test-instance", "dna": "hc-run-dna", "agent": "hc-run-agent"}]
RESULT = '{"Ok":"QmZmh3tbh5M8YqvnT1ZkJGZ4bYbqgDbS2ChGvnA7GwdNjo"}'
METHODS = {"info/instances": INSTANCES, "call": RESULT}


def answer(raw: str) -> bytes:
    try:
        request = orjson.loads(raw)
        result = METHODS[request["method"]]
        return orjson.dumps({"jsonrpc": "2.0", "result": result, "id": request.get("id")})
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return orjson.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": None})


async def handle(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_frame(answer(msg.data), WSMsgType.TEXT)
    return ws


async def main(port: int) -> None:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"listening {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    except KeyboardInterrupt:
        pass
