"""A running conductor with its interfaces: what ``hc run`` and ``holochain`` start.

:class:`ConductorService` boots a :class:`~holochain.conductor.Conductor`,
starts one server per configured interface, announces each bound port with
holochain-rust's ``*** Bound interface '<id>' to port: <n>`` line, routes
signals to WebSocket interfaces, and stops everything in order.
"""

from __future__ import annotations

import logging
from typing import Callable

from ..conductor.conductor import Conductor
from ..conductor.config import InterfaceConfig
from .api import interface_methods
from .jsonrpc import Dispatcher
from .servers import HttpServer, Limits, WebSocketServer, bind_hosts, origin_is_loopback

__all__ = ["ConductorService", "bound_line", "DONE_LINE"]

log = logging.getLogger(__name__)

DONE_LINE = "*** Done. All interfaces started."


def bound_line(interface_id: str, port: int) -> str:
    return f"*** Bound interface '{interface_id}' to port: {port}"


def _announce(line: str) -> None:
    print(line, flush=True)


class ConductorService:
    def __init__(
        self,
        conductor: Conductor,
        *,
        limits: Limits | None = None,
        announce: Callable[[str], None] = _announce,
    ) -> None:
        self.conductor = conductor
        self.limits = limits or Limits()
        self.announce = announce
        self.servers: dict[str, WebSocketServer | HttpServer] = {}

    async def start(self) -> None:
        """Boot the conductor, then start every interface."""
        await self.conductor.boot()
        for iface in self.conductor.config.interfaces:
            await self.start_interface(iface)

    def _origin_check(self, iface: InterfaceConfig) -> Callable[[str], bool] | None:
        allowed = set(iface.allowed_origins or ())
        if not iface.admin and iface.allowed_origins is None:
            return None  # app interfaces: any page may call zome functions (as holochain-rust)
        return lambda origin: origin in allowed or origin_is_loopback(origin)

    async def start_interface(self, iface: InterfaceConfig) -> int:
        # the method table is built once per start, as holochain-rust builds it
        dispatcher = Dispatcher(interface_methods(self.conductor, iface))
        port = 0 if iface.choose_free_port else (iface.port or 0)
        hosts = bind_hosts(iface.bind_address)
        kind = iface.kind
        if kind == "websocket":
            server: WebSocketServer | HttpServer = WebSocketServer(
                f"interface '{iface.id}'", port, hosts, lambda: dispatcher,
                limits=self.limits, origin_allowed=self._origin_check(iface))
        elif kind == "http":
            server = HttpServer(f"interface '{iface.id}'", port, hosts, lambda: dispatcher,
                                limits=self.limits, origin_allowed=self._origin_check(iface))
        else:
            raise ValueError(f"interface '{iface.id}': driver type `{kind}` is not implemented; use websocket or http")
        bound = await server.start()
        self.servers[iface.id] = server
        log.info("interface '%s' (%s%s) listening on %s port %d", iface.id, kind,
                 ", admin" if iface.admin else "", "/".join(hosts), bound)
        self.announce(bound_line(iface.id, bound))
        return bound

    async def stop_interface(self, interface_id: str) -> None:
        server = self.servers.pop(interface_id, None)
        if server is not None:
            await server.stop()

    def port_of(self, interface_id: str) -> int | None:
        server = self.servers.get(interface_id)
        return server.port if server is not None else None

    async def stop(self) -> None:
        for interface_id in list(self.servers):
            await self.stop_interface(interface_id)
        await self.conductor.shutdown()

