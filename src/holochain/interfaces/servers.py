"""The WebSocket and HTTP servers of an interface (aiohttp).

Both serve JSON-RPC through a :class:`~.jsonrpc.Dispatcher` on any path, and
put a bound on everything a client controls: message size (5 MiB, as
holochain-rust's ws server), requests in flight per WebSocket connection
(reading pauses until replies go out: back-pressure, no unbounded queue),
connections per interface (HTTP too), and the bytes a slow reader may leave
queued for signals.  Every request first passes the web rules of
:mod:`.web_security` (its ``Host`` must name loopback or the bind address; a
browser page's ``Origin`` must be allowed), before any handler runs.

WebSocket replies are text frames; requests may come as text or as binary
frames holding UTF-8 (invalid UTF-8 closes the connection with 1007).  The
replies a connection gets within one event-loop tick leave in one write: a
group commit releases dozens at once, and one ``send()`` each was the largest
cost of a small reply.
Permessage-deflate is never negotiated (it costs 1.6–2.2× server CPU per call
and browsers offer it unasked).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .jsonrpc import Batch, Dispatcher
from .web_security import (
    HostPolicy,
    OriginPolicy,
    cors_headers,
    guard_middleware,
    is_loopback_name,
    ui_content_security_policy,
)

__all__ = ["Limits", "WebSocketServer", "HttpServer", "StaticUiServer", "bind_hosts"]

log = logging.getLogger(__name__)

# A connection's handler yields to the event loop after this long of handling requests it
# had already read: commits of those calls reach the writer process (and finished ones get
# their replies) while it goes on, and other connections get their turn.
_YIELD_S = 0.0005
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")
_JSON_TYPES = {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"}


@dataclass
class Limits:
    """What one interface lets a client use: message size, requests in flight per connection,
    connections, unread output."""

    max_message_bytes: int = 5 * 1024 * 1024
    max_in_flight: int = 256  # per WebSocket connection
    max_connections: int = 1024  # per interface
    max_queued_bytes: int = 16 * 1024 * 1024  # unread output before a connection is dropped


def bind_hosts(address: str | None) -> list[str]:
    """Where to listen: the configured address, or both loopbacks by default."""
    if address:
        return [address]
    hosts = ["127.0.0.1"]
    if socket.has_ipv6:
        hosts.append("::1")
    return hosts


class _Server:
    """An aiohttp app listening on one port (all hosts share the port).

    Every request passes ``host_policy`` and (when set) ``origin_policy`` first;
    the handlers never see one that does not.
    """

    def __init__(
        self,
        name: str,
        port: int,
        hosts: list[str],
        limits: Limits,
        host_policy: HostPolicy,
        origin_policy: OriginPolicy | None,
    ) -> None:
        self.name = name
        self.requested_port = port
        self.hosts = hosts
        self.limits = limits
        self.host_policy = host_policy
        self.origin_policy = origin_policy
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def _new_app(self, client_max_size: int) -> web.Application:
        return web.Application(
            client_max_size=client_max_size,
            middlewares=[guard_middleware(self.name, self.host_policy, self.origin_policy)],
        )

    def _app(self) -> web.Application:
        raise NotImplementedError

    def _connection_count(self) -> int:
        """Open TCP connections of this server (idle keep-alive ones too)."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    async def start(self) -> int:
        app = self._app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        port = self.requested_port
        try:
            for i, host in enumerate(self.hosts):
                site = web.TCPSite(self._runner, host, port, reuse_address=True, backlog=1024)
                try:
                    await site.start()
                except OSError:
                    if i == 0:
                        raise
                    log.debug("%s: could not also listen on %s:%s", self.name, host, port)
                    continue
                if i == 0:
                    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = port
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._close_connections()
            await self._runner.cleanup()
            self._runner = None

    async def _close_connections(self) -> None:
        pass


class _Connection:
    """One WebSocket client's outgoing frames, written together once per event-loop tick.

    Replies released together (a group commit that became durable, the
    requests of one read) cost one ``send()`` instead of one each; the frames
    are plain unmasked text frames, as aiohttp would write them.  Nothing is
    written once the connection is closing (aiohttp marks it closed before it
    writes its close frame, so no data frame can follow that).
    """

    __slots__ = ("ws", "transport", "frames", "scheduled", "loop")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self.ws = ws
        self.transport = transport
        self.frames: list[bytes] = []
        self.scheduled = False
        self.loop = asyncio.get_running_loop()

    def send(self, data: bytes) -> None:
        n = len(data)
        if n < 126:
            header = bytes((0x81, n))
        elif n < 65536:
            header = _LEN16.pack(0x81, 126, n)
        else:
            header = _LEN64.pack(0x81, 127, n)
        self.frames += (header, data)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        frames, self.frames = self.frames, []
        if frames and not self.ws.closed and not self.transport.is_closing():
            self.transport.write(b"".join(frames))

    def queued(self) -> int:
        """Bytes written but not yet taken by the kernel (this client reads slowly, or not at all)."""
        return self.transport.get_write_buffer_size() + sum(map(len, self.frames))


class _RpcServer(_Server):
    """A server that answers JSON-RPC with a dispatcher (made per message: the method table may change)."""

    _METHOD = "*"  # the HTTP method routed to ``_handle``, any path

    def __init__(
        self,
        name: str,
        port: int,
        hosts: list[str],
        dispatcher: Callable[[], Dispatcher],
        *,
        limits: Limits | None = None,
        host_policy: HostPolicy | None = None,
        origin_policy: OriginPolicy | None = None,
    ) -> None:
        super().__init__(
            name, port, hosts, limits or Limits(), host_policy or HostPolicy(), origin_policy or OriginPolicy()
        )
        self.dispatcher = dispatcher

    def _app(self) -> web.Application:
        app = self._new_app(self.limits.max_message_bytes)
        app.router.add_route(self._METHOD, "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


class WebSocketServer(_RpcServer):
    """JSON-RPC over WebSocket, plus server-pushed signal frames."""

    _METHOD = "GET"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: dict[web.WebSocketResponse, _Connection] = {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if len(self.connections) >= self.limits.max_connections:
            return web.Response(status=503, text="too many connections on this interface\n")
        ws = web.WebSocketResponse(
            max_msg_size=self.limits.max_message_bytes,
            compress=False,
            autoping=True,
            autoclose=False,  # on the client's close, replies already made go out before our close frame
            heartbeat=None,
            protocols=_offered_protocols(request),
        )
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # the client went away during the handshake
            return ws
        conn = self.connections[ws] = _Connection(ws, transport)
        protocol = request.protocol
        slots = asyncio.Semaphore(self.limits.max_in_flight)
        pending: set[asyncio.Future[Any]] = set()

        def later(fut: asyncio.Future[Any]) -> None:
            slots.release()
            answered(fut)

        def answered(fut: asyncio.Future[Any]) -> None:
            pending.discard(fut)
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is not None:
                log.error("%s: a request failed", self.name, exc_info=exc)
                return
            reply = fut.result()
            if reply is not None:
                conn.send(reply)

        burst = perf_counter()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data: bytes | str = msg.data
                elif msg.type == WSMsgType.BINARY:
                    try:
                        data = msg.data.decode("utf-8")
                    except UnicodeDecodeError:
                        conn.flush()
                        await ws.close(code=WSCloseCode.INVALID_TEXT, message=b"invalid UTF-8")
                        break
                else:  # ERROR: the library has already closed (e.g. message too big)
                    break
                out = self.dispatcher().handle(data)
                if perf_counter() - burst > _YIELD_S:
                    await asyncio.sleep(0)
                    burst = perf_counter()
                if out is None:
                    pass
                elif isinstance(out, bytes):
                    conn.send(out)
                elif isinstance(out, Batch):  # each member takes its own place among the in-flight
                    batch = asyncio.ensure_future(out.answer(await out.admit(slots)))
                    pending.add(batch)
                    batch.add_done_callback(answered)  # its members gave their places back
                else:
                    await slots.acquire()  # back-pressure: stop reading while too many wait
                    fut = out if isinstance(out, asyncio.Future) else asyncio.ensure_future(out)
                    pending.add(fut)
                    fut.add_done_callback(later)
                if protocol is not None and protocol.writing_paused:
                    await self._drain(conn, protocol)  # the client does not keep up: stop reading
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.connections.pop(ws, None)
            conn.flush()
        if not ws.closed:  # the client closed: answer with our close frame
            try:
                await ws.close()
            except (ConnectionError, RuntimeError):
                pass
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return ws

    async def _drain(self, conn: _Connection, protocol: Any) -> None:
        """Wait until the transport takes writes again (or the connection goes)."""
        conn.flush()
        delay = 0.001
        while protocol.writing_paused and not conn.transport.is_closing() and not conn.ws.closed:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def broadcast(self, data: bytes) -> None:
        """Push a signal frame to every connection.

        A client that stops reading while signals keep coming would make its
        unsent frames pile up in the server; once more than
        ``max_queued_bytes`` wait for it, its connection is cut (aborted: a
        polite close would queue behind what it does not read).
        """
        for ws, conn in list(self.connections.items()):
            if ws.closed or conn.transport.is_closing():
                continue
            if conn.queued() > self.limits.max_queued_bytes:
                log.warning("%s: cutting a connection that does not read its signals", self.name)
                conn.transport.abort()
                self.connections.pop(ws, None)
                continue
            conn.send(data)

    @property
    def has_connections(self) -> bool:
        return bool(self.connections)

    async def _close_connections(self) -> None:
        """Say goodbye to every client at once; one that does not answer within a
        second (it stopped reading) is cut off, so a stop never hangs on it."""
        await asyncio.gather(*(self._close(ws) for ws in list(self.connections)))

    @staticmethod
    async def _close(ws: web.WebSocketResponse) -> None:
        try:
            await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"interface stopped"), 1.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            transport = ws._req.transport if ws._req is not None else None
            if transport is not None:
                transport.abort()


def _offered_protocols(request: web.Request) -> tuple[str, ...]:
    """Echo the first subprotocol a client offers (holochain-rust's ws server does)."""
    offered = request.headers.get("Sec-WebSocket-Protocol")
    if not offered:
        return ()
    first = offered.split(",")[0].strip()
    return (first,) if first else ()


class HttpServer(_RpcServer):
    """JSON-RPC over HTTP POST (any path), as jsonrpc-http-server answers it."""

    @staticmethod
    def _cors(request: web.Request) -> dict[str, str]:
        """CORS headers for a page whose origin passed the policy (the guard refused the others)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return {}
        return cors_headers(origin, request.headers.get("Access-Control-Request-Headers"))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._connection_count() > self.limits.max_connections:
            return web.Response(
                status=503, headers={"Connection": "close"}, text="too many connections on this interface\n"
            )
        cors = self._cors(request)
        if request.method == "OPTIONS":
            return web.Response(status=200, headers={"Allow": "OPTIONS, POST", "Accept": "application/json", **cors})
        if request.method != "POST":
            return web.Response(
                status=405, headers=cors, text="Used HTTP Method is not allowed. POST or OPTIONS is required\n"
            )
        content_type = request.headers.get("Content-Type", "").strip().lower()
        if content_type not in _JSON_TYPES:
            return web.Response(
                status=415,
                headers=cors,
                text="Supplied content type is not allowed. Content-Type: application/json is required\n",
            )
        if request.content_length is not None and request.content_length > self.limits.max_message_bytes:
            return web.Response(status=413, headers=cors, text="request body size exceeds allowed maximum\n")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, headers=cors, text="request body size exceeds allowed maximum\n")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return web.Response(
                status=400, headers=cors, text=f"utf-8 encoding error at byte {exc.start} in request body\n"
            )
        out = self.dispatcher().handle(body)
        if out is not None and not isinstance(out, bytes):
            out = await out
        return web.Response(
            status=200,
            body=(out + b"\n") if out is not None else b"",
            headers={"Content-Type": "application/json; charset=utf-8", **cors},
        )


class StaticUiServer(_Server):
    """A UI bundle's static files, as holochain-rust's (deprecated) UI interfaces serve them.

    Files of ``root_dir`` are served at ``/`` (``index.html`` for directories);
    with ``reroute_to_root`` an unknown path gets the root page, so single-page
    apps can route on the client.  ``GET /_dna_connections.json`` answers
    ``{"dna_interface": <the interface config, or null>}``, which is how
    hc-web-client's ``connect()`` without a url finds the conductor's WebSocket.

    Only regular files under ``root_dir`` are ever served, never a dotfile or
    anything under a dot-directory (``.env``, ``.git/``), whatever symlinks
    say; a path that cannot name such a file (a dot segment, a NUL, over
    :data:`MAX_PATH` characters, a symlink loop) gets 404.  Every page carries
    :func:`~.web_security.ui_content_security_policy`.
    """

    MAX_PATH = 1024

    def __init__(
        self,
        name: str,
        port: int,
        hosts: list[str],
        root_dir: Path,
        dna_interface: Callable[[], dict[str, Any] | None],
        *,
        reroute_to_root: bool = True,
        limits: Limits | None = None,
        host_policy: HostPolicy | None = None,
    ) -> None:
        super().__init__(name, port, hosts, limits or Limits(), host_policy or HostPolicy(), None)
        self.root_dir = root_dir.resolve()
        self.dna_interface = dna_interface
        self.reroute_to_root = reroute_to_root
        bind = host_policy.bind_address if host_policy is not None else None
        extra = (
            [] if not bind or is_loopback_name(bind) else [f"ws://{_url_host(bind)}:*", f"http://{_url_host(bind)}:*"]
        )
        self.headers = {"Content-Security-Policy": ui_content_security_policy(extra)}

    def _app(self) -> web.Application:
        app = self._new_app(64 * 1024)
        app.router.add_route("GET", "/_dna_connections.json", self._connections)
        app.router.add_route("GET", "/{tail:.*}", self._file)
        return app

    async def _connections(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"dna_interface": self.dna_interface()}, headers=self.headers)

    def _find(self, tail: str) -> Path | None:
        """The regular file ``tail`` names under the root, or None."""
        try:
            target = (self.root_dir / tail).resolve(strict=True)
            relative = target.relative_to(self.root_dir)
            if any(part.startswith(".") for part in relative.parts):
                return None
            if target.is_dir():
                target = (target / "index.html").resolve(strict=True)
                relative = target.relative_to(self.root_dir)
                if any(part.startswith(".") for part in relative.parts):
                    return None
            return target if stat.S_ISREG(target.stat().st_mode) else None
        except (OSError, ValueError, RuntimeError):  # missing, outside the root, a loop, too long
            return None

    @classmethod
    def _refused(cls, tail: str) -> bool:
        """Paths that can never name a servable file: too long, a NUL, a dot or empty-named segment."""
        if len(tail) > cls.MAX_PATH or "\x00" in tail or "\\" in tail:
            return True
        return any(part.startswith(".") for part in tail.split("/") if part)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if self._refused(tail):
            return web.Response(status=404, text="Not Found\n", headers=self.headers)
        target = await asyncio.to_thread(self._find, tail)
        if target is None and self.reroute_to_root:
            target = await asyncio.to_thread(self._find, "")
        if target is None:
            return web.Response(status=404, text="Not Found\n", headers=self.headers)
        return web.FileResponse(target, headers=self.headers)


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
