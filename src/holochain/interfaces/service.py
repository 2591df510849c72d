"""A running conductor with its interfaces: what ``hc run`` and ``holochain`` start.

:class:`ConductorService` boots a :class:`~holochain.conductor.Conductor`,
starts one server per configured interface (announcing each bound port with
holochain-rust's ``*** Bound interface '<id>' to port: <n>`` line) and one
static server per UI interface, routes signals, and stops everything in order.

Signal routing, as holochain-rust's signal multiplexer does it:

* ``User`` signals go to every WebSocket interface listing the emitting
  instance, and to every admin WebSocket interface;
* ``Consistency`` and ``Trace`` signals go to admin WebSocket interfaces, when
  ``[signals]`` switches them on;
* ``InstanceStats`` frames go to admin WebSocket interfaces every 500 ms
  (only while one has a client: nobody to tell, nothing to compute);
* HTTP interfaces carry no signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from ..conductor.conductor import Conductor, ConductorError
from ..conductor.config import InterfaceConfig, UiInterfaceConfig
from ..conductor.dashboard_config import DashboardConfig
from ..conductor.signals import SignalKind, stats_frame
from ..ribosome import runner, wasm
from .admin_methods import admin_methods
from .dashboard import DASHBOARD_LINE_PREFIX, DashboardServer, new_token
from .jsonrpc import Dispatcher, Method
from .methods import interface_methods
from .servers import HttpServer, Limits, StaticUiServer, WebSocketServer, bind_hosts
from .web_security import HostPolicy, Origin, OriginPolicy

__all__ = ["ConductorService", "bound_line", "DONE_LINE", "STATS_INTERVAL"]

log = logging.getLogger(__name__)

DONE_LINE = "*** Done. All interfaces started."
STATS_INTERVAL = 0.5


def bound_line(interface_id: str, port: int) -> str:
    return f"*** Bound interface '{interface_id}' to port: {port}"


def _reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _announce(line: str) -> None:
    print(line, flush=True)


class ConductorService:
    """A conductor on the wire: boots it, starts the interfaces and UI servers its configuration
    lists (and those the admin API adds), routes signals to connected clients, and stops it all
    cleanly."""

    def __init__(
        self,
        conductor: Conductor,
        *,
        limits: Limits | None = None,
        announce: Callable[[str], None] = _announce,
    ) -> None:
        self.conductor = conductor
        configured = conductor.config.limits
        self.limits = limits or Limits(
            max_message_bytes=configured.max_message_bytes,
            max_in_flight=configured.max_in_flight,
            max_connections=configured.max_connections,
        )
        self.announce = announce
        self.servers: dict[str, WebSocketServer | HttpServer] = {}
        self.ui_servers: dict[str, StaticUiServer] = {}
        self.admin_lock = asyncio.Lock()
        self._dispatchers: dict[str, Dispatcher] = {}
        self._admin_methods: dict[str, Method] | None = None
        self._user_routes: dict[str, list[WebSocketServer]] = {}
        self._admin_routes: list[WebSocketServer] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._stats_task: asyncio.Task[None] | None = None
        self.dashboard: DashboardServer | None = None

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        """Boot the conductor, then start every interface and UI server."""
        limits = self.conductor.config.limits
        runner.set_limits(limits.max_blocking_ms / 1000, limits.max_call_ms / 1000)
        wasm.set_limits(wasm.WasmLimits(limits.wasm_fuel, limits.wasm_time_ms, limits.wasm_memory_mb))
        await self.conductor.boot()
        self._unsubscribe = self.conductor.add_signal_listener(self._route_signal)
        for iface in self.conductor.config.interfaces:
            await self.start_interface(iface)
        for ui in self.conductor.config.ui_interfaces:
            await self.start_ui_interface(ui)
        if self.conductor.config.dashboard is not None:
            await self.start_dashboard()
        self._stats_task = asyncio.ensure_future(self._stats_loop())

    async def stop(self) -> None:
        if self._stats_task is not None:
            self._stats_task.cancel()
            await asyncio.gather(self._stats_task, return_exceptions=True)
            self._stats_task = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.dashboard is not None:
            await self.dashboard.stop()
            self.dashboard = None
        for ui_id in list(self.ui_servers):
            await self.stop_ui_interface(ui_id)
        for interface_id in list(self.servers):
            await self.stop_interface(interface_id)
        await self.conductor.shutdown()

    # -- interfaces ----------------------------------------------------------------------------

    def _origin_policy(self, iface: InterfaceConfig) -> OriginPolicy:
        """Which pages may use an interface: loopback pages and what ``allowed_origins`` adds;
        app interfaces also the pages of this conductor's own UI interfaces."""
        try:
            return OriginPolicy.from_config(iface.allowed_origins, extra=None if iface.admin else self._ui_origins)
        except ValueError as exc:
            raise ConductorError(f"interface '{iface.id}': {exc}") from None

    def _ui_origins(self) -> list[Origin]:
        return [
            Origin("http", server.host_policy.bind_address or "127.0.0.1", server.port)
            for server in self.ui_servers.values()
            if server.port is not None
        ]

    def _build_dispatcher(self, iface: InterfaceConfig) -> Dispatcher:
        if iface.admin and self._admin_methods is None:
            self._admin_methods = admin_methods(self)
        return Dispatcher(interface_methods(self.conductor, iface, self._admin_methods if iface.admin else None))

    async def start_interface(self, iface: InterfaceConfig) -> int:
        interface_id = iface.id
        self._dispatchers[interface_id] = self._build_dispatcher(iface)

        def dispatcher() -> Dispatcher:
            return self._dispatchers[interface_id]

        port = 0 if iface.choose_free_port else (iface.port or 0)
        hosts = bind_hosts(iface.bind_address)
        kind = iface.kind
        kinds: dict[str, type[WebSocketServer | HttpServer]] = {"websocket": WebSocketServer, "http": HttpServer}
        if kind not in kinds:
            self._dispatchers.pop(interface_id, None)
            raise ConductorError(
                f"interface '{iface.id}': driver type `{kind}` is not implemented; use websocket or http"
            )
        try:
            origins = self._origin_policy(iface)
        except ConductorError:
            self._dispatchers.pop(interface_id, None)
            raise
        server = kinds[kind](
            f"interface '{iface.id}'",
            port,
            hosts,
            dispatcher,
            limits=self.limits,
            host_policy=HostPolicy(iface.bind_address),
            origin_policy=origins,
        )
        try:
            bound = await server.start()
        except OSError as exc:
            self._dispatchers.pop(interface_id, None)
            raise ConductorError(f"interface '{iface.id}': cannot listen on port {port}: {_reason(exc)}") from None
        except BaseException:
            self._dispatchers.pop(interface_id, None)
            raise
        self.servers[iface.id] = server
        self._rebuild_routes()
        log.info(
            "interface '%s' (%s%s) listening on %s port %d",
            iface.id,
            kind,
            ", admin" if iface.admin else "",
            "/".join(hosts),
            bound,
        )
        self.announce(bound_line(iface.id, bound))
        return bound

    async def stop_interface(self, interface_id: str) -> None:
        server = self.servers.pop(interface_id, None)
        self._dispatchers.pop(interface_id, None)
        self._rebuild_routes()
        if server is not None:
            await server.stop()

    def stop_interface_soon(self, interface_id: str) -> None:
        """Stop an interface after the reply to the request that removed it is on its way."""
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self.stop_interface(interface_id)))

    def port_of(self, interface_id: str) -> int | None:
        server = self.servers.get(interface_id)
        return server.port if server is not None else None

    def connection_count(self, interface_id: str) -> int | None:
        """Open WebSocket connections of an interface (None for HTTP ones or when stopped)."""
        server = self.servers.get(interface_id)
        return len(server.connections) if isinstance(server, WebSocketServer) else None

    def refresh(self) -> None:
        """After a configuration change: rebuild method tables and signal routes in place."""
        for iface in self.conductor.config.interfaces:
            if iface.id in self._dispatchers:
                self._dispatchers[iface.id] = self._build_dispatcher(iface)
        self._rebuild_routes()

    # -- UI servers ------------------------------------------------------------------------------

    async def start_ui_interface(self, ui: UiInterfaceConfig) -> int:
        bundle = self.conductor.config.ui_bundle(ui.bundle)
        assert bundle is not None  # checked by the configuration
        ui_id = ui.id

        def dna_interface() -> dict | None:
            config = self.conductor.config
            current = next((u for u in config.ui_interfaces if u.id == ui_id), None)
            if current is None or current.dna_interface is None:
                return None
            iface = config.interface(current.dna_interface)
            if iface is None:
                return None
            described = iface.to_json()
            port = self.port_of(iface.id)
            if port is not None:  # the port really bound (matters with choose_free_port)
                described["driver"] = {**described["driver"], "port": port}
            return described

        server = StaticUiServer(
            f"UI interface '{ui.id}'",
            ui.port,
            [ui.bind_address],
            self.conductor.resolve(bundle.root_dir),
            dna_interface,
            reroute_to_root=ui.reroute_to_root,
            limits=self.limits,
            host_policy=HostPolicy(ui.bind_address),
        )
        try:
            bound = await server.start()
        except OSError as exc:
            raise ConductorError(f"UI interface '{ui.id}': cannot listen on port {ui.port}: {_reason(exc)}") from None
        self.ui_servers[ui.id] = server
        self.conductor.notify(f'Server started for "{ui.id}" on http://{ui.bind_address}:{bound}')
        return bound

    async def stop_ui_interface(self, ui_id: str) -> None:
        server = self.ui_servers.pop(ui_id, None)
        if server is not None:
            await server.stop()

    # -- the dashboard ---------------------------------------------------------------------------

    async def start_dashboard(self) -> str:
        """Serve the dashboard and ``/metrics`` as ``[dashboard]`` says; announces and returns its URL."""
        settings = self.conductor.config.dashboard or DashboardConfig()
        server = DashboardServer(self, settings.port, settings.bind_address, settings.token or new_token())
        try:
            await server.start()
        except OSError as exc:
            await server.stop()
            raise ConductorError(f"dashboard: cannot listen on port {settings.port}: {_reason(exc)}") from None
        self.dashboard = server
        log.info("dashboard listening on %s port %d", settings.bind_address, server.port)
        self.announce(DASHBOARD_LINE_PREFIX + server.url)
        return server.url

    # -- signals ---------------------------------------------------------------------------------

    def _rebuild_routes(self) -> None:
        config = self.conductor.config
        user: dict[str, list[WebSocketServer]] = {}
        admin: list[WebSocketServer] = []
        for iface in config.interfaces:
            server = self.servers.get(iface.id)
            if not isinstance(server, WebSocketServer):
                continue  # HTTP never carries signals
            if iface.admin:
                admin.append(server)
            for ref in iface.instances:
                user.setdefault(ref.id, []).append(server)
        for instance_id, servers in user.items():
            user[instance_id] = list(dict.fromkeys(servers + admin))
        self._user_routes = user
        self._admin_routes = admin

    def _route_signal(self, instance_id: str, kind: SignalKind, frame: bytes) -> None:
        if kind == "User":
            targets = self._user_routes.get(instance_id, self._admin_routes)
        elif (kind == "Consistency" and self.conductor.config.signals.consistency) or (
            kind == "Trace" and self.conductor.config.signals.trace
        ):
            targets = self._admin_routes
        else:
            return
        for server in targets:
            server.broadcast(frame)

    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            listeners = [s for s in self._admin_routes if s.has_connections]
            if not listeners:
                continue
            frame = stats_frame(self.conductor.instance_stats())
            for server in listeners:
                server.broadcast(frame)
