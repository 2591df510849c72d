"""The dashboard's server: the page, its assets, a WebSocket that pushes state, and ``/metrics``.

Routes (every one behind :func:`.access.refusal`):

* ``GET /`` — the page (``?token=…`` sets the cookie the page then uses);
* ``GET /assets/<file>`` — its script and style sheet, shipped in the package;
* ``GET /ws`` — a WebSocket on which the server pushes, twice a second,
  whatever changed: the conductor (``overview``), the network, the DHT of the
  instance the page looks at, the head of its chain when it grew, and the
  events since the last push (zome calls, signals, validation failures).  The
  page asks for older chain pages with ``{"chain": {"instance", "before",
  "limit"}}`` and says which instance it looks at with ``{"watch": id}``;
* ``GET /metrics`` — the Prometheus text format (:mod:`.metrics`).

Read-only: nothing here changes the conductor.  Nothing is computed while no
page is connected, except ``/metrics`` when scraped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from ..servers import Limits, _Server
from ..web_security import SECURITY_HEADERS, HostPolicy
from . import state
from .access import cookie_name, refusal
from .metrics import CONTENT_TYPE_LATEST, metrics_registry, render_metrics

if TYPE_CHECKING:
    from ...conductor.signals import SignalKind
    from ..service import ConductorService

__all__ = ["DashboardServer", "dashboard_url", "new_token"]

log = logging.getLogger(__name__)

PUSH_INTERVAL = 0.5
_SLOW_EVERY = 2  # pushes between two builds of the network and DHT views
_EVENTS_PER_PUSH = 200
_SIGNALS_KEPT = 500
_MAX_CLIENTS = 32
_MAX_REQUEST_BYTES = 4096
_ASSETS = {"dashboard.js": "application/javascript", "dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def dashboard_url(bind_address: str, port: int, token: str) -> str:
    """The URL to print: a wildcard bind address is reached on loopback."""
    host = "127.0.0.1" if bind_address in ("0.0.0.0", "", "::") else bind_address
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/?token={token}"


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("assets", name).read_bytes()


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class _Client:
    """One open page: what it looks at and what it was last sent."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.watch: str | None = None
        self.sent: dict[str, bytes] = {}
        self.head: tuple[str, int] | None = None  # (instance, chain length) of the last head page sent
        self.call_seq = 0
        self.signal_seq = 0
        self.failure_seq: dict[str, tuple[int, int]] = {}  # instance -> (id of its log, last seq)
        self.ticks = 0


class DashboardServer(_Server):
    def __init__(self, service: ConductorService, port: int, bind_address: str, token: str) -> None:
        # the shared guard refuses foreign Hosts first; ours then wants the page's own origin and the token
        super().__init__(
            "dashboard",
            port,
            [bind_address],
            Limits(max_message_bytes=_MAX_REQUEST_BYTES),
            HostPolicy(bind_address),
            None,
        )
        self.service = service
        self.bind_address = bind_address
        self.token = token
        self.registry = metrics_registry(service)
        self.started = time.time()
        self.clients: set[_Client] = set()
        self.signals: collections.deque[dict[str, Any]] = collections.deque(maxlen=_SIGNALS_KEPT)
        self._signal_seq = 0
        self._unsubscribe = service.conductor.add_signal_listener(self._on_signal)

    @property
    def url(self) -> str:
        assert self.port is not None
        return dashboard_url(self.bind_address, self.port, self.token)

    def _app(self) -> web.Application:
        app = self._new_app(_MAX_REQUEST_BYTES)
        app.middlewares.append(self._guard)
        app.router.add_get("/", self._index)
        app.router.add_get("/assets/{name}", self._asset)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/ws", self._ws)
        return app

    async def stop(self) -> None:
        self._unsubscribe()
        await super().stop()

    async def _close_connections(self) -> None:
        for client in list(self.clients):
            await client.ws.close(message=b"dashboard stopped")

    # -- access ----------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        refused = refusal(request, self.token, self.port or 0)
        if refused is not None:
            status, why = refused
            log.warning("dashboard: refused %s %s: %s", request.method, request.path, why)
            return web.Response(status=status, text=why + "\n")
        response = await handler(request)
        if not response.prepared:  # a WebSocket has sent its headers already
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # -- pages -----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        host = request.headers["Host"]
        response = web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' ws://{host}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        if request.query.get("token"):
            response.set_cookie(
                cookie_name(self.port or 0), self.token, httponly=True, samesite="Strict", path="/", max_age=None
            )
        return response

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kind = _ASSETS.get(name)
        if kind is None:
            return web.Response(status=404, text="no such asset\n")
        return web.Response(body=_asset(name), content_type=kind)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(body=render_metrics(self.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    # -- the live WebSocket -------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if len(self.clients) >= _MAX_CLIENTS:
            return web.Response(status=503, text="too many dashboard pages open\n")
        ws = web.WebSocketResponse(max_msg_size=_MAX_REQUEST_BYTES, heartbeat=30.0, compress=False)
        await ws.prepare(request)
        client = _Client(ws)
        self.clients.add(client)
        pusher = asyncio.ensure_future(self._push_loop(client))
        try:
            await ws.send_str(_dumps({"type": "hello", "read_only": True, "started": self.started}).decode())
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                await self._on_request(client, msg.data)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.clients.discard(client)
            pusher.cancel()
            await asyncio.gather(pusher, return_exceptions=True)
        return ws

    async def _on_request(self, client: _Client, text: str) -> None:
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self._send(client, {"type": "error", "message": "requests are JSON objects"})
            return
        if not isinstance(request, dict):
            await self._send(client, {"type": "error", "message": "requests are JSON objects"})
            return
        if "watch" in request:
            watch = request["watch"]
            client.watch = watch if isinstance(watch, str) else None
            client.sent.pop("dht", None)
            client.head = None
            await self._push(client)
        elif "chain" in request:
            ask = request["chain"] if isinstance(request["chain"], dict) else {}
            instance = self.service.conductor.instances.get(ask.get("instance"))  # type: ignore[arg-type]
            before, limit = ask.get("before"), ask.get("limit", 50)
            if instance is None:
                await self._send(client, {"type": "error", "message": f"no running instance {ask.get('instance')!r}"})
            elif (before is not None and not isinstance(before, int)) or not isinstance(limit, int):
                await self._send(client, {"type": "error", "message": "chain: `before` and `limit` are integers"})
            else:
                page = state.chain_page(instance, before, limit)
                await self._send(client, {"type": "chain", "live": False, "data": page})
        else:
            await self._send(client, {"type": "error", "message": "unknown request; use watch or chain"})

    async def _send(self, client: _Client, message: dict[str, Any]) -> None:
        if not client.ws.closed:
            await client.ws.send_str(_dumps(message).decode())

    async def _push_loop(self, client: _Client) -> None:
        while not client.ws.closed:
            try:
                await self._push(client)
            except (ConnectionError, RuntimeError):
                return
            except Exception:  # a view that fails must not end the page's updates
                log.exception("dashboard: building a view failed")
            await asyncio.sleep(PUSH_INTERVAL)

    async def _push_if_changed(self, client: _Client, kind: str, data: Any) -> None:
        body = _dumps(data)
        if client.sent.get(kind) != body:
            client.sent[kind] = body
            await client.ws.send_str('{"type":"' + kind + '","data":' + body.decode() + "}")

    async def _push(self, client: _Client) -> None:
        service = self.service
        client.ticks += 1
        # the network and the ring cost the most to build and change the least: every other push
        slow = client.ticks % _SLOW_EVERY == 1 or "dht" not in client.sent
        await self._push_if_changed(client, "overview", state.overview(service, self.started))
        if slow or "network" not in client.sent:
            await self._push_if_changed(client, "network", state.network_view(service))
        instance = service.conductor.instances.get(client.watch) if client.watch else None
        if instance is not None:
            if slow:
                await self._push_if_changed(client, "dht", state.dht_view(service, instance))
            head = (instance.instance_id, instance.chain.length)
            if client.head != head:
                client.head = head
                await self._send(client, {"type": "chain", "live": True, "data": state.chain_page(instance, None, 50)})
        await self._push_events(client)

    async def _push_events(self, client: _Client) -> None:
        conductor = self.service.conductor
        calls = conductor.calls.since(client.call_seq) if conductor.calls is not None else []
        calls = calls[-_EVENTS_PER_PUSH:]
        if calls:
            client.call_seq = calls[-1].seq
        signals = [s for s in self.signals if s["seq"] > client.signal_seq][-_EVENTS_PER_PUSH:]
        if signals:
            client.signal_seq = signals[-1]["seq"]
        failures = []
        for instance_id, instance in conductor.instances.items():
            vlog = instance.validation_log
            log_id, seq = client.failure_seq.get(instance_id, (id(vlog), 0))
            if log_id != id(vlog):
                seq = 0
            new = vlog.since(seq)[-_EVENTS_PER_PUSH:]
            if new:
                seq = new[-1].seq
                failures += [{"instance": instance_id, **_fields(f)} for f in new]
            client.failure_seq[instance_id] = (id(vlog), seq)
        if calls or signals or failures:
            await self._send(
                client,
                {"type": "events", "calls": [_fields(c) for c in calls], "signals": signals, "failures": failures},
            )

    def _on_signal(self, instance_id: str, kind: SignalKind, frame: bytes) -> None:
        if not self.clients:
            return
        self._signal_seq += 1
        try:
            signal = orjson.loads(frame).get("signal")
        except (orjson.JSONDecodeError, AttributeError):
            signal = None
        self.signals.append(
            {"seq": self._signal_seq, "at": time.time(), "instance": instance_id, "kind": kind, "signal": signal}
        )


def _fields(record: Any) -> dict[str, Any]:
    """A call (a named tuple) or a validation failure (a slotted dataclass) as a dict."""
    if isinstance(record, tuple):
        return record._asdict()  # type: ignore[attr-defined]
    return {name: getattr(record, name) for name in record.__slots__}
