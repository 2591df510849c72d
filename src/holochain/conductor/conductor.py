"""The conductor: hosts agents, DNAs and instances as a configuration describes.

It owns the configuration and the running instances, and does everything that
is not a transport: booting (load DNAs, unlock agents, create or load every
instance, start them), shutting down, and the operations the admin API and
the interfaces call.  The servers that expose it live in
:mod:`holochain.interfaces`; they ask the conductor for instances and
register for its signals.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from ..core.crypto import AgentKey
from ..core.dna import Dna, DnaError
from ..instance.instance import Instance, InstanceError
from ..net.config import NetworkConfigError, network_for_instance
from ..storage.base import StorageError, Store
from ..storage.memory import MemoryStore
from ..storage.sqlite import SqliteStore
from .config import Configuration, InstanceConfig, write_config_atomically

__all__ = ["Conductor", "ConductorError", "load_dna_file"]

log = logging.getLogger(__name__)

Signal = dict[str, Any]


class ConductorError(Exception):
    """A conductor operation failed; the message is shown to the operator or client."""


def load_dna_file(path: Path) -> Dna:
    """Read and parse a ``.dna.json`` file (raises :class:`ConductorError`)."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConductorError(f'Could not load DNA file "{path}": no such file') from None
    except OSError as exc:
        raise ConductorError(f'Could not load DNA file "{path}": {exc.strerror}') from None
    try:
        return Dna.from_text(text)
    except DnaError as exc:
        raise ConductorError(f'Could not load DNA file "{path}", Error: {exc}') from None


class Conductor:
    def __init__(
        self,
        config: Configuration,
        *,
        base_dir: Path | None = None,
        save_config: bool = True,
        synchronous: str = "full",
    ) -> None:
        self.config = config
        self.base_dir = base_dir or Path.cwd()
        self.save_enabled = save_config and config.persistence_dir is not None
        self.synchronous = synchronous
        self.instances: dict[str, Instance] = {}
        self.dnas: dict[str, Dna] = {}  # dna config id -> DNA as instantiated (uuid applied)
        self.agent_keys: dict[str, AgentKey] = {}
        self._signal_listeners: list[Callable[[Signal], None]] = []

    # -- paths ------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def persistence_dir(self) -> Path | None:
        return self.resolve(self.config.persistence_dir) if self.config.persistence_dir else None

    # -- boot and shutdown --------------------------------------------------------------

    async def boot(self) -> None:
        """Check the configuration, then create, initialize and start every instance."""
        self.config.check_consistency()
        for agent in self.config.agents:
            self.agent_keys[agent.id] = self._unlock_agent(agent.id)
        changed = False
        for inst_config in self.config.instances_in_bridge_order():
            changed |= await self._create_instance(inst_config)
        if changed:
            self.save()
        for instance in self.instances.values():
            if not instance.active:
                instance.start()
                log.info("started instance '%s'", instance.instance_id)

    async def shutdown(self) -> None:
        for instance_id, instance in list(self.instances.items()):
            try:
                instance.close()
            except StorageError as exc:
                log.error("instance '%s': %s", instance_id, exc)
            log.info("stopped instance '%s'", instance_id)
        self.instances.clear()

    def _unlock_agent(self, agent_id: str) -> AgentKey:
        agent = self.config.agent(agent_id)
        assert agent is not None
        if agent.test_agent:
            key = AgentKey.for_test_agent(agent.name)
            agent.public_address = key.address
            return key
        raise ConductorError(
            f"agent '{agent.id}': only test agents (test_agent = true) are supported by this build"
        )

    def _dna_for(self, inst_config: InstanceConfig) -> tuple[Dna, bool]:
        """The DNA an instance runs: the file, with the config's uuid applied."""
        dna_config = self.config.dna(inst_config.dna)
        assert dna_config is not None
        dna = load_dna_file(self.resolve(dna_config.file))
        changed = False
        if dna_config.uuid is not None:
            dna = dna.with_uuid(dna_config.uuid)
            if dna_config.hash != dna.address:
                dna_config.hash = dna.address
                changed = True
        elif dna_config.hash != dna.address:
            raise ConductorError(
                f'Error while trying to create instance "{inst_config.id}": Provided DNA hash does '
                f"not match actual DNA hash! {dna_config.hash} != {dna.address}"
            )
        return dna, changed

    def _open_store(self, inst_config: InstanceConfig) -> Store:
        storage = inst_config.storage
        if not storage.persistent:
            return MemoryStore()
        assert storage.path is not None
        return SqliteStore(self.resolve(storage.path), synchronous=self.synchronous,
                           label=f"instance '{inst_config.id}'")

    async def _create_instance(self, inst_config: InstanceConfig) -> bool:
        dna, changed = self._dna_for(inst_config)
        self.dnas[inst_config.dna] = dna
        agent_config = self.config.agent(inst_config.agent)
        assert agent_config is not None
        store = self._open_store(inst_config)
        try:
            network = network_for_instance(self.config.network, inst_config.id)
        except NetworkConfigError as exc:
            store.close()
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        instance = Instance(inst_config.id, dna, self.agent_keys[agent_config.id], agent_config.name, store,
                            network=network)
        try:
            await instance.initialize()
        except (InstanceError, StorageError) as exc:
            store.close()
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        self.instances[inst_config.id] = instance
        return changed or bool(agent_config.test_agent)

    # -- configuration persistence ---------------------------------------------------------

    def save(self) -> None:
        """Write the configuration to ``<persistence_dir>/conductor-config.toml``."""
        if not self.save_enabled:
            return
        path = self.persistence_dir / "conductor-config.toml"  # type: ignore[operator]
        write_config_atomically(self.config, path)
        log.debug("saved configuration to %s", path)

    # -- signals --------------------------------------------------------------------------

    def add_signal_listener(self, listener: Callable[[Signal], None]) -> Callable[[], None]:
        self._signal_listeners.append(listener)
        return lambda: self._signal_listeners.remove(listener)

    def emit(self, signal: Signal) -> None:
        for listener in list(self._signal_listeners):
            try:
                listener(signal)
            except Exception:  # a broken listener must not break the zome call
                log.exception("signal listener failed")

