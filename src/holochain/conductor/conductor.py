"""The conductor: hosts agents, DNAs and instances as a configuration describes.

It owns the configuration and the running instances, and does everything that
is not a transport: booting (load DNAs, unlock agents, create or load every
instance, start them), shutting down, routing zome calls (from interfaces and
across bridges), turning what instances emit into holochain-rust's signal
frames, and the configuration changes of the admin API (:mod:`.admin`).  The
servers that expose it live in :mod:`holochain.interfaces`; they ask the
conductor for instances and register for its signals.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from time import perf_counter
from typing import Any

import orjson

from ..core.crypto import AgentKey
from ..core.dna import Dna
from ..core.errors import ZomeError
from ..core.keys import AgentKeystore
from ..core.rust_text import rust_debug_str
from ..instance.call_zome import INSTANCE_ERROR_PREFIX
from ..instance.instance import Instance, InstanceError
from ..net import Network
from ..net.network_config import NetworkConfigError, network_for_instance
from ..ribosome.host_api import ZomeCallReply
from ..storage.base import StorageError, Store
from ..storage.memory_store import MemoryStore
from ..storage.sqlite import SqliteStore
from .admin import ConductorAdmin
from .bridges import check_bridges, required_bridges
from .call_log import UNKNOWN, CallLog
from .conductor_error import ConductorError
from .config import (
    ConfigError,
    Configuration,
    DnaConfig,
    InstanceConfig,
)
from .config_file import write_config_atomically
from .dna_files import load_dna_file
from .keystore import Keystore, KeystoreFileError, store_key
from .passphrase import PassphraseError, PassphraseService
from .signals import Signal, SignalKind, consistency_signal, instance_signal_frame

__all__ = ["Conductor", "ConductorError", "load_dna_file", "CONFIG_FILENAME"]

log = logging.getLogger(__name__)

CONFIG_FILENAME = "conductor-config.toml"

SignalListener = Callable[[str, SignalKind, bytes], None]


def _rpc_error_text(message: str) -> str:
    """A bridge failure as holochain-rust hands it to the caller: the JSON-RPC error object."""
    return orjson.dumps({"code": -32602, "message": message}).decode()


class Conductor:
    """Hosts the agents, DNAs and instances of a :class:`~.config.Configuration`: boots and shuts
    them down, routes zome calls (from interfaces and across bridges), turns what instances emit
    into signal frames, and carries out the admin API's configuration changes."""

    def __init__(
        self,
        config: Configuration,
        *,
        base_dir: Path | None = None,
        save_config: bool = True,
        synchronous: str = "full",
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.admin = ConductorAdmin(self)  # the admin API's operations on this conductor
        # progress lines (holochain prints them on stdout, as holochain-rust does)
        self.notify = notify or (lambda line: log.info("%s", line))
        self.base_dir = base_dir or Path.cwd()
        self.save_enabled = save_config and config.persistence_dir is not None
        self.synchronous = synchronous
        self.instances: dict[str, Instance] = {}
        self.dnas: dict[str, Dna] = {}  # dna config id -> DNA as instantiated (uuid applied)
        self.agent_keys: dict[str, AgentKey] = {}
        # one runtime keystore per agent, shared by its instances (secrets a zome
        # adds, like converse's app_root_seed, are visible to all of them)
        self._keystores: dict[str, AgentKeystore] = {}
        self.passphrases = PassphraseService(config.passphrase_service, self.base_dir)
        self.running_calls: dict[str, int] = {}
        # every zome call routed here, for /metrics and the dashboard (None: not noted)
        self.calls: CallLog | None = CallLog()
        self._call_ids = itertools.count(1)
        self._dna_cache: dict[tuple[Path, int, int], Dna] = {}
        self._signal_listeners: list[SignalListener] = []
        # relay connections this conductor made (one per distinct [network] table), closed at shutdown
        self._networks: dict[str, Network] = {}

    # -- paths ------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def persistence_dir(self) -> Path | None:
        return self.resolve(self.config.persistence_dir) if self.config.persistence_dir else None

    @property
    def saved_config_path(self) -> Path | None:
        return self.persistence_dir / CONFIG_FILENAME if self.persistence_dir else None

    # -- boot and shutdown --------------------------------------------------------------

    async def boot(self) -> None:
        """Check the configuration, then create, initialize and start every instance."""
        self.config.check_consistency()
        self.check_dnas(self.config)
        for agent in self.config.agents:
            await self.unlock_agent(agent.id)
        changed = False
        for inst_config in self.config.instances_in_bridge_order():
            changed |= await self._create_instance(inst_config)
        if changed:
            self.save()
        for inst_config in self.config.instances:
            instance = self.instances[inst_config.id]
            if not instance.active:
                self.start_instance(inst_config.id)

    async def shutdown(self) -> None:
        for instance_id in list(self.instances):
            self._close_instance(instance_id)
        networks, self._networks = list(self._networks.values()), {}
        for network in networks:
            await network.close()

    def _close_instance(self, instance_id: str) -> None:
        instance = self.instances.pop(instance_id, None)
        if instance is None:
            return
        try:
            instance.close()
        except StorageError as exc:
            log.error("instance '%s': %s", instance_id, exc)
        log.info("stopped instance '%s'", instance_id)

    # -- agents ---------------------------------------------------------------------------

    async def unlock_agent(self, agent_id: str) -> AgentKey:
        """The key of an agent: derived for test agents, from its keystore otherwise."""
        agent = self.config.agent(agent_id)
        assert agent is not None
        self.notify(f"Unlocking key for agent '{agent.id}': ")
        if agent.test_agent:
            key = AgentKey.for_test_agent(agent.name)
            agent.public_address = key.address
        elif agent.holo_remote_key:
            raise ConductorError(
                f"agent '{agent.id}': holo_remote_key agents sign through a remote service, "
                "which this conductor does not support"
            )
        else:
            path = self.resolve(agent.keystore_file)
            self.notify(f"Reading keystore from {path}")
            try:
                passphrase = await asyncio.to_thread(self.passphrases.passphrase)
                keystore = await asyncio.to_thread(Keystore.load, path, passphrase)
            except (PassphraseError, KeystoreFileError) as exc:
                raise ConductorError(f"agent '{agent.id}': {exc}") from None
            key = keystore.agent_key
            if key.address != agent.public_address:
                raise ConductorError(
                    f"Key from file '{agent.keystore_file}' ('{key.address}') does not match "
                    f"public address {agent.public_address} mentioned in config!"
                )
        self.agent_keys[agent.id] = key
        return key

    # -- DNAs ---------------------------------------------------------------------------

    def load_dna(self, path: Path) -> Dna:
        """A DNA file, parsed once per version of the file."""
        try:
            st = path.stat()
        except OSError:
            return load_dna_file(path)  # raises with the reason
        key = (path, st.st_mtime_ns, st.st_size)
        dna = self._dna_cache.get(key)
        if dna is None:
            dna = load_dna_file(path)
            self._dna_cache = {k: v for k, v in self._dna_cache.items() if k[0] != path}
            self._dna_cache[key] = dna
        return dna

    def effective_dna(self, dna_config: DnaConfig) -> Dna:
        """The DNA a configuration entry describes: the file, with its uuid applied."""
        dna = self.load_dna(self.resolve(dna_config.file))
        return dna.with_uuid(dna_config.uuid) if dna_config.uuid is not None else dna

    def check_dnas(self, config: Configuration) -> None:
        """holochain-rust's checks that need the DNA files: they load, and bridges fit."""
        dnas: dict[str, Dna] = {}
        for inst in config.instances:
            dna_config = config.dna(inst.dna)
            assert dna_config is not None
            if inst.dna not in dnas:
                try:
                    dnas[inst.dna] = self.effective_dna(dna_config)
                except ConductorError as exc:
                    raise ConfigError(f'Could not load DNA file "{dna_config.file}": {exc}') from None
        check_bridges(config, dnas)

    def _dna_for(self, inst_config: InstanceConfig) -> tuple[Dna, bool]:
        """The DNA an instance runs; True if its hash in the config had to be rewritten."""
        dna_config = self.config.dna(inst_config.dna)
        assert dna_config is not None
        dna = self.effective_dna(dna_config)
        changed = False
        if dna_config.uuid is not None:
            if dna_config.hash != dna.address:
                dna_config.hash = dna.address
                changed = True
        elif dna_config.hash != dna.address:
            raise ConductorError(
                f'Error while trying to create instance "{inst_config.id}": Provided DNA hash does '
                f"not match actual DNA hash! {dna_config.hash} != {dna.address}"
            )
        return dna, changed

    # -- instances ----------------------------------------------------------------------

    def _open_store(self, inst_config: InstanceConfig, key: AgentKey) -> Store:
        storage = inst_config.storage
        if not storage.persistent:
            return MemoryStore()
        assert storage.path is not None
        return SqliteStore(
            self.resolve(storage.path),
            synchronous=self.synchronous,
            label=f"instance '{inst_config.id}'",
            key=store_key(key) if storage.encrypted else None,
        )

    async def _create_instance(self, inst_config: InstanceConfig) -> bool:
        dna, changed = self._dna_for(inst_config)
        self.dnas[inst_config.dna] = dna
        agent_config = self.config.agent(inst_config.agent)
        assert agent_config is not None
        key = self.agent_keys.get(agent_config.id)
        if key is None:
            key = await self.unlock_agent(agent_config.id)
        try:
            network = network_for_instance(self.config.network, inst_config.id, self._networks)
        except NetworkConfigError as exc:
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        try:
            store = self._open_store(inst_config, key)
        except (StorageError, OSError) as exc:  # OSError: its directory cannot be made
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        try:
            instance = Instance(
                inst_config.id,
                dna,
                key,
                agent_config.name,
                store,
                network=network,
                keystore=self._runtime_keystore(agent_config.id, key),
            )
        except ZomeError as exc:  # zome code that cannot be loaded (e.g. WebAssembly)
            store.close()
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        try:
            await instance.initialize()
        except (InstanceError, StorageError) as exc:
            store.close()
            raise ConductorError(f'Error while trying to create instance "{inst_config.id}": {exc}') from exc
        instance_id = inst_config.id
        instance.consistency_signals = self.config.signals.consistency
        instance.signal_sink = lambda signal: self._instance_signal(instance_id, signal)
        instance.bridge_call = lambda handle, zome, fn, args: self.bridge_call(instance_id, handle, zome, fn, args)
        self.instances[instance_id] = instance
        return changed or bool(agent_config.test_agent)

    def _runtime_keystore(self, agent_id: str, key: AgentKey) -> AgentKeystore:
        keystore = self._keystores.get(agent_id)
        if keystore is None or keystore.agent_key.address != key.address:
            keystore = self._keystores[agent_id] = AgentKeystore.for_agent(key)
        return keystore

    def start_instance(self, instance_id: str) -> None:
        """Start an instance; its required bridges must lead to running instances."""
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InstanceError("Instance does not exist")
        self.notify(f'Starting instance "{instance_id}"...')
        for handle in required_bridges(instance.dna):
            bridge = next((b for b in self.config.bridges if b.handle == handle), None)
            callee = self.instances.get(bridge.callee_id) if bridge is not None else None
            if callee is None or not callee.active:
                raise InstanceError(f"Required bridge is not present/started: {handle}")
        instance.start()

    def stop_instance(self, instance_id: str) -> None:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InstanceError("Instance does not exist")
        self.notify(f'Stopping instance "{instance_id}"...')
        instance.stop()

    # -- zome calls ---------------------------------------------------------------------

    def call_zome(
        self,
        instance_id: str,
        zome: str,
        function: str,
        args: Any,
        *,
        token: str | None = None,
        provenance: list[str] | None = None,
    ) -> ZomeCallReply:
        """Call a zome function of an instance: the JSON text of its result, or a future or
        an awaitable of it (a :data:`ZomeCallReply`).  Raises :class:`InstanceError`.

        With ``signals.consistency`` on, the call is announced with holochain-rust's
        ``SignalZomeFunctionCall`` / ``ReturnZomeFunctionResult`` pair, the return
        always following the call (so a waiter never waits for it in vain).
        """
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InstanceError("Holochain instance is not initialized.")
        event = None
        if self.config.signals.consistency:
            event = [f"{zome}/{function}", {"prefix": 0, "offset": next(self._call_ids)}]
            self._emit(
                instance_id,
                "Consistency",
                consistency_signal({"SignalZomeFunctionCall": event}, "Source", [{"ReturnZomeFunctionResult": event}]),
            )
        calls = self.calls
        started = perf_counter() if calls is not None else 0.0
        try:
            result = instance.call(zome, function, args, token=token, provenance=provenance)
        except BaseException as exc:
            self._returned(instance_id, event)
            if calls is not None:
                known = instance.declares(zome, function)
                calls.note(
                    instance_id, zome if known else UNKNOWN, function if known else UNKNOWN, started, "error", str(exc)
                )
            raise
        if isinstance(result, str):
            self._returned(instance_id, event)
            if calls is not None:
                if result.startswith('{"Err"'):
                    calls.note(instance_id, zome, function, started, "err", result)
                else:
                    calls.note(instance_id, zome, function, started, "ok")
            return result
        self.running_calls[instance_id] = self.running_calls.get(instance_id, 0) + 1
        if isinstance(result, asyncio.Future):  # a reply waiting for its commit: no task needed
            result.add_done_callback(lambda fut: self._call_done(instance_id, event, zome, function, started, fut))
            return result
        return self._finish_call(instance_id, result, event, zome, function, started)

    async def _finish_call(
        self,
        instance_id: str,
        result: Awaitable[str],
        event: list[Any] | None,
        zome: str,
        function: str,
        started: float,
    ) -> str:
        outcome, detail = "error", "cancelled"
        try:
            text = await result
            outcome, detail = ("err", text) if isinstance(text, str) and text.startswith('{"Err"') else ("ok", "")
            return text
        except Exception as exc:
            detail = str(exc)
            raise
        finally:
            self._finished(instance_id, event, zome, function, started, outcome, detail)

    def _call_done(
        self, instance_id: str, event: list[Any] | None, zome: str, function: str, started: float, fut: asyncio.Future
    ) -> None:
        if fut.cancelled():
            outcome, detail = "error", "cancelled"
        elif fut.exception() is not None:
            outcome, detail = "error", str(fut.exception())
        else:
            text = fut.result()
            outcome, detail = ("err", text) if isinstance(text, str) and text.startswith('{"Err"') else ("ok", "")
        self._finished(instance_id, event, zome, function, started, outcome, detail)

    def _finished(
        self,
        instance_id: str,
        event: list[Any] | None,
        zome: str,
        function: str,
        started: float,
        outcome: str,
        detail: str,
    ) -> None:
        self.running_calls[instance_id] -= 1
        self._returned(instance_id, event)
        if self.calls is not None:
            self.calls.note(instance_id, zome, function, started, outcome, detail)

    def _returned(self, instance_id: str, event: list[Any] | None) -> None:
        if event is not None:
            self._emit(instance_id, "Consistency", consistency_signal({"ReturnZomeFunctionResult": event}, None, []))

    def bridge_call(self, caller_id: str, handle: str, zome: str, function: str, args: Any) -> ZomeCallReply:
        """A call from instance ``caller_id`` through its bridge ``handle``.

        As in holochain-rust the callee is called with its public token (and the
        provenance of its own agent), so only its public functions are reachable;
        failures reach the caller as the JSON-RPC error object's text.
        """
        bridge = next((b for b in self.config.bridges if b.caller_id == caller_id and b.handle == handle), None)
        if bridge is None:
            raise InstanceError(
                _rpc_error_text(f"instance identifier invalid: PublicInstanceIdentifier({rust_debug_str(handle)})")
            )
        try:
            result = self.call_zome(bridge.callee_id, zome, function, args)
        except InstanceError as exc:
            raise InstanceError(_rpc_error_text(INSTANCE_ERROR_PREFIX + str(exc))) from None
        if isinstance(result, str):
            return result
        return self._bridge_result(result)

    async def _bridge_result(self, result: Awaitable[str]) -> str:
        try:
            return await result
        except InstanceError as exc:
            raise InstanceError(_rpc_error_text(INSTANCE_ERROR_PREFIX + str(exc))) from None

    # -- configuration persistence ---------------------------------------------------------

    def save(self) -> None:
        """Write the configuration to ``<persistence_dir>/conductor-config.toml``."""
        path = self.saved_config_path
        if not self.save_enabled or path is None:
            return
        write_config_atomically(self.config, path)
        log.debug("saved configuration to %s", path)

    # -- signals --------------------------------------------------------------------------

    def add_signal_listener(self, listener: SignalListener) -> Callable[[], None]:
        """``listener(instance_id, kind, frame)`` gets every signal frame, ready to send."""
        self._signal_listeners.append(listener)
        return lambda: self._signal_listeners.remove(listener)

    def _instance_signal(self, instance_id: str, signal: Signal) -> None:
        kind = signal.get("signal_type")
        if kind not in ("User", "Trace", "Consistency"):
            log.error("instance '%s' emitted a signal of unknown type %r; dropped", instance_id, kind)
            return
        self._emit(instance_id, kind, signal)

    def _emit(self, instance_id: str, kind: SignalKind, signal: Signal) -> None:
        if not self._signal_listeners:
            return
        frame = instance_signal_frame(instance_id, signal)
        for listener in list(self._signal_listeners):
            try:
                listener(instance_id, kind, frame)
            except Exception:  # a broken listener must not break the zome call
                log.exception("signal listener failed")

    def instance_stats(self) -> dict[str, dict[str, Any]]:
        """holochain-rust's ``InstanceStats`` of every instance.

        Held entries and aspects are what the instance's store holds (an aspect
        here: one header held for an entry).  Validation happens inside the call
        that brings an entry, so nothing waits in a validation queue.
        """
        stats = {}
        for instance_id, instance in self.instances.items():
            try:
                entries, aspects = instance.store.held_counts()
            except StorageError as exc:
                log.error("instance '%s': %s", instance_id, exc)
                entries = aspects = 0
            stats[instance_id] = {
                "number_held_entries": entries,
                "number_held_aspects": aspects,
                "number_pending_validations": 0,
                "number_delayed_validations": 0,
                "number_running_zome_calls": self.running_calls.get(instance_id, 0),
                "offline": not getattr(instance.network.switchboard, "connected", True),
            }
        return stats
