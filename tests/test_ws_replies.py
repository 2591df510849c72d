"""How the WebSocket server sends replies: the replies of one event-loop tick leave
together, replies already made go out before the close frame that answers a
client's close, and replies that wait (a commit becoming durable) are sent when
their future completes."""

from __future__ import annotations

import asyncio
import json

import pytest

from holochain.interfaces.jsonrpc import Dispatcher
from holochain.interfaces.servers import WebSocketServer
from test_fuzz_servers import frame, handshake, read_frame


@pytest.fixture
async def server():
    later: list[asyncio.Future] = []

    def wait(params):
        fut = asyncio.get_running_loop().create_future()
        later.append(fut)
        return fut

    methods = {"echo": lambda params: params, "wait": wait}
    ws = WebSocketServer("test", 0, ["127.0.0.1"], lambda: Dispatcher(methods))
    await ws.start()
    ws.later = later
    yield ws
    await ws.stop()


def request(id_: int, method: str = "echo") -> bytes:
    return frame(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": [id_]}).encode())


class CountingWrites:
    """Counts the writes a connection's transport takes (the server's own transport, observed)."""

    def __init__(self, server: WebSocketServer) -> None:
        (conn,) = server.connections.values()
        self.count = 0
        real = conn.transport.write

        def write(data):
            self.count += 1
            return real(data)

        conn.transport.write = write


async def test_replies_to_requests_read_together_leave_in_one_write(server):
    reader, writer = await handshake(server.port)
    await asyncio.sleep(0.05)
    writes = CountingWrites(server)
    writer.write(b"".join(request(i) for i in range(32)))
    await writer.drain()
    ids = []
    for _ in range(32):
        opcode, payload = await read_frame(reader)
        assert opcode == 1
        ids.append(json.loads(payload)["id"])
    assert ids == list(range(32))
    assert writes.count <= 2  # one, unless the machine stalled the handler past its yield time
    writer.close()


async def test_waiting_replies_are_sent_when_their_future_completes_together(server):
    reader, writer = await handshake(server.port)
    await asyncio.sleep(0.05)
    writes = CountingWrites(server)
    writer.write(b"".join(request(i, "wait") for i in range(10)) + request(99))
    await writer.drain()
    opcode, payload = await read_frame(reader)
    assert json.loads(payload)["id"] == 99  # the quick call does not wait behind the others
    for i, fut in enumerate(server.later):
        fut.set_result(f"done {i}")
    replies = [json.loads((await read_frame(reader))[1]) for _ in range(10)]
    assert [r["result"] for r in replies] == [f"done {i}" for i in range(10)]
    assert writes.count == 2
    writer.close()


async def test_replies_made_before_the_clients_close_are_sent_before_the_close_frame(server):
    reader, writer = await handshake(server.port)
    writer.write(b"".join(request(i) for i in range(5)) + frame(b"\x03\xe8", opcode=8))
    await writer.drain()
    frames = [await read_frame(reader) for _ in range(6)]
    assert [json.loads(p)["id"] for op, p in frames[:5]] == list(range(5))
    assert frames[5][0] == 8  # then the close frame
    writer.close()
