"""``hc run``: a development conductor for the DNA of the current project.

A DNA or configuration it cannot run is reported as ``holochain -c`` reports
it: ``Error while trying to boot from config: <what and why>``, exit status 2.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from ..conductor.conductor import Conductor, load_dna_file
from ..conductor.config import (
    AgentConfig,
    Configuration,
    DnaConfig,
    InstanceConfig,
    InstanceRef,
    InterfaceConfig,
    StorageConfig,
)
from ..conductor.dashboard_config import DashboardConfig
from ..core.crypto import AgentKey
from ..core.errors import HolochainPyError
from .runtime import StopSignal, boot_failed, run_async, setup_logging

__all__ = ["run_dev_conductor", "dev_config", "network_table"]

AGENT_ID = "hc-run-agent"
DNA_ID = "hc-run-dna"
INSTANCE_ID = "test-instance"
INTERFACE_ID = "websocket-interface"


DEFAULT_SERVERS = {"nats": "nats://127.0.0.1:4222", "sim2h": "ws://localhost:9000"}


def network_table(kind: str | None, servers: tuple[str, ...] | list[str]) -> dict[str, Any] | None:
    """``--networked [nats|sim2h]`` with ``--server`` URLs, as a ``[network]`` table.

    ``sim2h`` writes holochain-rust's own table (``sim2h_url``; the URL is
    taken as the NATS server, a ``ws://`` one through its WebSocket
    listener); ``nats`` lists every server to fail over between.
    """
    if kind is None:
        return None
    urls = list(servers) or [DEFAULT_SERVERS[kind]]
    if kind == "sim2h":
        return {"type": "sim2h", "sim2h_url": urls[0]}
    return {"type": "nats", "servers": urls}


def dev_config(
    dna_path: Path,
    dna_hash: str,
    *,
    port: int,
    interface: str,
    agent_name: str,
    persist: bool,
    network: dict[str, Any] | None = None,
) -> Configuration:
    """The configuration holochain-rust's ``hc run`` builds."""
    storage = StorageConfig("sqlite", ".hc") if persist else StorageConfig("memory")
    return Configuration(
        agents=[
            AgentConfig(AGENT_ID, agent_name, AgentKey.for_test_agent(agent_name).address, agent_name, test_agent=True)
        ],
        dnas=[DnaConfig(DNA_ID, str(dna_path), dna_hash)],
        instances=[InstanceConfig(INSTANCE_ID, DNA_ID, AGENT_ID, storage)],
        interfaces=[
            InterfaceConfig(
                INTERFACE_ID, {"type": interface, "port": port}, admin=True, instances=[InstanceRef(INSTANCE_ID)]
            )
        ],
        network=network,
    )


def run_dev_conductor(
    *,
    dna_path: Path,
    port: int,
    interface: str,
    agent_name: str,
    persist: bool,
    verbose: bool,
    network: dict[str, Any] | None = None,
    watch: Path | None = None,
    dashboard_port: int | None = 0,
    log_format: str = "text",
) -> int:
    """Serve the DNA until stopped; with ``watch`` (the project directory), reload zome code as it changes."""
    setup_logging("debug" if verbose else "warning", fmt=log_format)
    from ..interfaces.service import ConductorService

    try:
        dna = load_dna_file(dna_path)
    except HolochainPyError as exc:
        hint = " (run `hc package` first, or pass --package)" if not dna_path.exists() else ""
        return boot_failed(f"{exc}{hint}")
    config = dev_config(
        dna_path, dna.address, port=port, interface=interface, agent_name=agent_name, persist=persist, network=network
    )
    if dashboard_port is not None:
        config.dashboard = DashboardConfig(port=dashboard_port)

    async def main() -> int:
        stop = StopSignal()
        service = ConductorService(Conductor(config, save_config=False))
        try:
            await service.start()
        except HolochainPyError as exc:  # every error of the tree, from every layer
            await service.stop()
            return boot_failed(str(exc))
        except OSError as exc:
            await service.stop()
            return boot_failed(f"cannot listen on port {port}: {exc.strerror}")
        bound = service.port_of(INTERFACE_ID)
        print(f"Holochain development conductor started. Running {interface} server on port {bound}", flush=True)
        watcher = None
        if watch is not None:
            from .watch import ZomeWatcher

            conductor = service.conductor
            watching = ZomeWatcher(watch, dna_path, lambda: conductor.instances.get(INSTANCE_ID))
            watcher = asyncio.ensure_future(watching.run())
            print(f"Watching {watch / 'zomes'} for changes: zome code is repackaged and reloaded", flush=True)
        interactive = sys.stdin is not None and sys.stdin.isatty()
        if interactive:
            print("Type 'exit' to stop the conductor and exit the program", flush=True)
        try:
            await stop.wait(prompt=interactive)
        finally:
            if watcher is not None:
                watcher.cancel()
            await service.stop()
            stop.close()
        return 0

    return run_async(main)
