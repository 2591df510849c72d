"""Raw-socket abuse of the WebSocket and HTTP servers: fragmented and binary
frames, invalid UTF-8, random bytes, oversized frames, slowloris-style partial
requests.  The server answers or closes properly, never crashes or hangs, and
keeps serving well-behaved clients throughout.

HC_FUZZ_EXAMPLES raises the number of random cases.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holochain.client import Client

EXAMPLES = int(os.environ.get("HC_FUZZ_EXAMPLES", "60"))


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes = b"abcd") -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


async def handshake(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert response.startswith(b"HTTP/1.1 101")
    return reader, writer


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await asyncio.wait_for(reader.readexactly(2), 10)
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await reader.readexactly(8))[0]
    return opcode, await reader.readexactly(n)


async def read_reply(reader: asyncio.StreamReader) -> dict:
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == 1:
            message = json.loads(payload)
            if isinstance(message, list) or "id" in message:
                return message


async def still_serving(url: str) -> None:
    async with await Client.connect(url, timeout=10) as client:
        assert (await client.info_instances())[0]["id"] == "test-instance"


async def test_fragmented_text_message_is_reassembled(hc_run):
    conductor = hc_run()
    reader, writer = await handshake(conductor.port)
    message = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "info/instances"}).encode()
    writer.write(
        frame(message[:10], opcode=1, fin=False)
        + frame(message[10:20], opcode=0, fin=False)
        + frame(b"", opcode=9)
        + frame(message[20:], opcode=0, fin=True)
    )  # a ping in between
    await writer.drain()
    assert (await read_reply(reader))["id"] == 7
    writer.close()


async def test_invalid_utf8_in_a_text_frame_closes_with_1007(hc_run):
    conductor = hc_run()
    reader, writer = await handshake(conductor.port)
    writer.write(frame(b'{"a":"\xff\xfe"}'))
    await writer.drain()
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == 8:
            break
    assert struct.unpack(">H", payload[:2])[0] == 1007
    writer.close()
    await still_serving(conductor.url)


async def test_an_announced_oversized_frame_is_refused_before_it_is_sent(hc_run):
    conductor = hc_run()
    reader, writer = await handshake(conductor.port)
    writer.write(bytes([0x81, 0x80 | 127]) + struct.pack(">Q", 1 << 40) + b"abcd")  # 1 TiB announced
    await writer.drain()
    data = await asyncio.wait_for(reader.read(1024), 10)
    assert data == b"" or data[0] & 0x0F == 8  # closed (with a close frame, or at once)
    writer.close()
    await still_serving(conductor.url)


async def test_slowloris_partial_requests_do_not_block_anyone(hc_run):
    conductor = hc_run()
    slow = []
    for _ in range(200):
        reader, writer = await asyncio.open_connection("127.0.0.1", conductor.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr")
        slow.append(writer)
    await asyncio.gather(*(w.drain() for w in slow))
    for _ in range(3):  # keep trickling bytes while a real client works
        for w in slow:
            w.write(b"a")
        await still_serving(conductor.url)
        await asyncio.sleep(0.1)
    for w in slow:
        w.close()
    await still_serving(conductor.url)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5),
    as_frames=st.booleans(),
    opcode=st.sampled_from([0, 1, 2, 3, 8, 9, 10, 15]),
)
def test_random_bytes_after_the_handshake(fuzz_conductor, chunks, as_frames, opcode):
    port, loop = fuzz_conductor

    async def case() -> None:
        reader, writer = await handshake(port)
        for chunk in chunks:
            writer.write(frame(chunk, opcode=opcode) if as_frames else chunk)
        try:
            await writer.drain()
            # the server answers, closes, or waits for more: never a crash or a hang
            await asyncio.wait_for(reader.read(65536), 0.3)
        except (TimeoutError, ConnectionError):
            pass
        writer.close()
        await still_serving(f"ws://127.0.0.1:{port}")

    loop.run_until_complete(case())
