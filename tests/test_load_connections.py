"""1,000 open WebSocket connections making calls for a bounded time, with flat memory.

Run longer with HC_LOAD_SECONDS (default 4) and more with HC_LOAD_CONNECTIONS.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import aiohttp

CONNECTIONS = int(os.environ.get("HC_LOAD_CONNECTIONS", "1000"))
SECONDS = float(os.environ.get("HC_LOAD_SECONDS", "4"))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def test_thousand_connections_calling_with_flat_memory(hc_run):
    conductor = hc_run("--persist")  # committed data goes to disk, not to memory
    pid = conductor.proc.pid
    idle = rss_mb(pid)
    connector = aiohttp.TCPConnector(limit=0)
    ok = errors = 0
    first_errors: list = []
    stop = asyncio.Event()

    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = []
        for i in range(0, CONNECTIONS, 100):  # open in waves, as real clients arrive
            sockets += await asyncio.gather(
                *(session.ws_connect(conductor.url) for _ in range(min(100, CONNECTIONS - i)))
            )
        opened = rss_mb(pid)

        async def caller(n: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal ok, errors
            i = 0
            while not stop.is_set():
                i += 1
                method = "info/instances" if i % 2 else "call"
                params = (
                    {
                        "instance_id": "test-instance",
                        "zome": "blog",
                        "function": "create_post",
                        "args": {"content": f"c{n}-{i}"},
                    }
                    if method == "call"
                    else {}
                )
                await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
                reply = json.loads(await ws.receive_str())
                while "id" not in reply:  # a signal frame (InstanceStats on hc run's admin interface)
                    reply = json.loads(await ws.receive_str())
                if "result" in reply:
                    ok += 1
                else:
                    errors += 1
                    first_errors.append(reply)

        tasks = [asyncio.ensure_future(caller(n, ws)) for n, ws in enumerate(sockets)]
        samples = []
        start = time.monotonic()
        while time.monotonic() - start < SECONDS:
            await asyncio.sleep(SECONDS / 4)
            samples.append(rss_mb(pid))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        for ws in sockets:
            await ws.close()
    await asyncio.sleep(0.5)
    after = rss_mb(pid)
    print(
        f"\n{CONNECTIONS} connections, {SECONDS}s: {ok} calls ok ({ok / SECONDS:.0f}/s), {errors} errors; "
        f"RSS idle {idle:.1f} MB, all open {opened:.1f} MB, under load {samples} MB, after close {after:.1f} MB"
    )
    assert errors == 0, first_errors[:3]
    assert ok >= CONNECTIONS  # every connection got answers
    assert conductor.proc.poll() is None
    # flat: memory while calling stops growing once everything is open
    assert max(samples) - samples[0] < 40, samples
