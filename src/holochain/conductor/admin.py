"""The conductor's side of the admin API: changes to DNAs, agents, instances,
bridges and UI bundles, and the debug views.

Every change follows holochain-rust's pattern and improves on it in one way:
build a changed copy of the configuration, run the whole consistency check on
it, do what can fail (load the DNA, create the instance, write the keystore),
and only then swap the copy in and save it atomically to
``<persistence_dir>/conductor-config.toml``.  A failed change leaves the
running conductor and the saved file as they were.

Interfaces are started and stopped by the interface layer
(:mod:`holochain.interfaces.admin_methods`), which calls the configuration parts
here (``add_interface_config`` …) and then restarts its servers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import json as cjson
from ..core.crypto import AgentKey
from ..core.entry import Entry, EntryShapeError
from ..core.header import ChainHeader
from ..core.private_files import private_dir, write_private
from ..instance.instance import Instance, InstanceError
from .config import (
    AgentConfig,
    BridgeConfig,
    ConfigError,
    Configuration,
    DnaConfig,
    InstanceConfig,
    InstanceRef,
    InterfaceConfig,
    StorageConfig,
    UiBundleConfig,
    UiInterfaceConfig,
)
from .ids import id_problem, path_for_id
from .keystore import Keystore
from .passphrase import PassphraseError

if TYPE_CHECKING:
    from .conductor import Conductor

__all__ = ["AdminOperations", "ADMIN_STORAGE_KINDS"]

ADMIN_STORAGE_KINDS = ("memory", "file", "pickle", "lmdb", "sqlite")


def _remove_instance_from(config: Configuration, instance_id: str) -> None:
    """holochain-rust's ``save_remove_instance``: the instance and its interface references."""
    config.instances = [i for i in config.instances if i.id != instance_id]
    for iface in config.interfaces:
        iface.instances = [r for r in iface.instances if r.id != instance_id]


class AdminOperations:
    """Mixed into :class:`~holochain.conductor.conductor.Conductor`."""

    # -- the change pattern ------------------------------------------------------------

    def _check(self: Conductor, config: Configuration) -> None:
        config.check_consistency()
        self.check_dnas(config)

    def _commit(self: Conductor, config: Configuration) -> None:
        self.config = config
        self.save()

    @staticmethod
    def _check_new_id(kind: str, value: str) -> None:
        """Before a change writes anything (a keystore, a DNA copy): the id it adds follows the rule."""
        problem = id_problem(kind, value)
        if problem is not None:
            raise ConfigError(problem)

    def _storage_dir(self: Conductor) -> Path:
        if self.persistence_dir is None:
            raise ConfigError("persistence_dir is not set, so the conductor has nowhere to keep new data")
        return self.persistence_dir / "storage"

    # -- DNAs ----------------------------------------------------------------------------

    async def install_dna_from_file(
        self: Conductor,
        dna_id: str,
        path: str,
        *,
        copy: bool = False,
        expected_hash: str | None = None,
        properties: Any = None,
        uuid: str | None = None,
    ) -> str:
        from .conductor import ConductorError, load_dna_file

        self._check_new_id("dna", dna_id)
        file = self.resolve(path)
        try:
            dna = await asyncio.to_thread(load_dna_file, file)  # a slow disk must not stop the interfaces
        except ConductorError as exc:
            reason = str(exc).split(", Error: ", 1)[-1].split(": ", 1)[-1]
            raise ConfigError(f'Could not load DNA file "{path}", Error: {reason}') from None
        if expected_hash is not None and dna.address != expected_hash:
            raise ConfigError(f"Provided DNA hash does not match actual DNA hash! {expected_hash} != {dna.address}")
        if properties is not None:
            if not copy:
                raise ConfigError("Cannot install DNA with properties unless copy flag is true")
            dna = dna.with_properties(properties)
        if uuid is not None:
            dna = dna.with_uuid(uuid)
        new = self.config.copy()
        if new.dna(dna_id) is not None:
            raise ConfigError(f"Duplicate dna IDs detected: {dna_id}")
        stored_path = path
        if copy:
            if self.persistence_dir is None:
                raise ConfigError("persistence_dir is not set, so the DNA cannot be copied")
            target = self.persistence_dir / "dna" / f"{dna.address}.dna.json"
            write_private(target, dna.to_pretty_json())
            stored_path = str(target)
        new.dnas.append(DnaConfig(dna_id, stored_path, dna.address, uuid))
        self._check(new)
        self._commit(new)
        self.notify(f'Installed DNA from {path} as "{dna_id}"')
        return dna.address

    def uninstall_dna(self: Conductor, dna_id: str) -> None:
        new = self.config.copy()
        new.dnas = [d for d in new.dnas if d.id != dna_id]
        removed = [i.id for i in new.instances if i.dna == dna_id]
        for instance_id in removed:
            _remove_instance_from(new, instance_id)
        self._check(new)
        self._commit(new)
        for instance_id in removed:
            self._stop_quietly(instance_id)
        self.notify(f'Uninstalled DNA "{dna_id}".')

    def _stop_quietly(self: Conductor, instance_id: str) -> None:
        """Stop and close an instance whose configuration is gone.

        holochain-rust kept such instances, stopped, in its instance map; closing
        them releases their store, so an instance added later under the same id
        cannot open the same database twice.
        """
        self._close_instance(instance_id)
        self.notify(f'Removed instance "{instance_id}".')

    # -- agents ---------------------------------------------------------------------------

    async def add_agent(self: Conductor, agent_id: str, name: str, holo_remote_key: str | None = None) -> str:
        """A new agent with a new keystore (or a remote key); returns its address."""
        self._check_new_id("agent", agent_id)
        if self.config.agent(agent_id) is not None:
            raise ConfigError(f"Agent with ID '{agent_id}' already exists")
        new = self.config.copy()
        if holo_remote_key is not None:
            agent = AgentConfig(agent_id, name, holo_remote_key, "::ignored::", holo_remote_key=True)
            new.agents.append(agent)
            self._check(new)
            self._commit(new)
            return holo_remote_key
        storage = self._storage_dir()
        keystore = Keystore.generate()
        path = storage / keystore.public_address
        try:
            passphrase = await asyncio.to_thread(self.passphrases.passphrase)
            await asyncio.to_thread(keystore.save, path, passphrase)
        except PassphraseError as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"cannot write the keystore {path}: {exc.strerror}") from None
        new.agents.append(AgentConfig(agent_id, name, keystore.public_address, str(path)))
        self._check(new)
        self._commit(new)
        self.agent_keys[agent_id] = keystore.agent_key
        return keystore.public_address

    def add_test_agent(self: Conductor, agent_id: str, name: str) -> str:
        if self.config.agent(agent_id) is not None:
            raise ConfigError(f"Agent with ID '{agent_id}' already exists")
        key = AgentKey.for_test_agent(name)
        new = self.config.copy()
        new.agents.append(AgentConfig(agent_id, name, key.address, name, test_agent=True))
        self._check(new)
        self._commit(new)
        self.agent_keys[agent_id] = key
        return key.address

    def remove_agent(self: Conductor, agent_id: str) -> None:
        if self.config.agent(agent_id) is None:
            raise ConfigError(f"Agent with ID '{agent_id}' does not exist")
        new = self.config.copy()
        new.agents = [a for a in new.agents if a.id != agent_id]
        removed = [i.id for i in new.instances if i.agent == agent_id]
        for instance_id in removed:
            _remove_instance_from(new, instance_id)
        self._check(new)
        self._commit(new)
        self.agent_keys.pop(agent_id, None)
        for instance_id in removed:
            self._stop_quietly(instance_id)
        self.notify(f'Removed agent "{agent_id}".')

    # -- instances ------------------------------------------------------------------------

    async def add_instance(
        self: Conductor, instance_id: str, dna_id: str, agent_id: str, storage: str | None = None
    ) -> None:
        kind = storage or "lmdb"
        if kind not in ADMIN_STORAGE_KINDS:
            raise ConfigError(f"Invalid storage option: {kind}")
        try:
            path = path_for_id(self._storage_dir(), "instance", instance_id)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        new = self.config.copy()
        new.instances.append(
            InstanceConfig(
                instance_id,
                dna_id,
                agent_id,
                StorageConfig("memory") if kind == "memory" else StorageConfig(kind, str(path)),
            )
        )
        self._check(new)
        private_dir(path)
        old = self.config
        self.config = new  # instantiation reads the DNA and agent from it
        try:
            await self._create_instance(new.instances[-1])
        except BaseException:
            self.config = old
            raise
        self.save()
        self.notify(f'Added instance "{instance_id}".')

    def remove_instance(self: Conductor, instance_id: str) -> None:
        new = self.config.copy()
        _remove_instance_from(new, instance_id)
        self._check(new)
        self._commit(new)
        self._close_instance(instance_id)
        self.notify(f'Removed instance "{instance_id}".')

    # -- interfaces (configuration only; the interface layer runs the servers) ------------

    def add_interface_config(self: Conductor, iface: InterfaceConfig) -> None:
        if self.config.interface(iface.id) is not None:
            raise ConfigError(f"Interface with ID '{iface.id}' already exists")
        new = self.config.copy()
        new.interfaces.append(iface)
        self._check(new)
        self._commit(new)

    def remove_interface_config(self: Conductor, interface_id: str) -> None:
        if self.config.interface(interface_id) is None:
            raise ConfigError(f"No such interface: '{interface_id}'")
        new = self.config.copy()
        new.interfaces = [i for i in new.interfaces if i.id != interface_id]
        self._check(new)
        self._commit(new)

    def add_instance_to_interface_config(
        self: Conductor, interface_id: str, instance_id: str, alias: str | None
    ) -> None:
        iface = self.config.interface(interface_id)
        if iface is None:
            raise ConfigError(f"Interface with ID {interface_id} not found")
        if any(r.id == instance_id for r in iface.instances):
            raise ConfigError(f"Instance '{instance_id}' already in interface '{interface_id}'")
        new = self.config.copy()
        new.interface(interface_id).instances.append(InstanceRef(instance_id, alias))  # type: ignore[union-attr]
        self._check(new)
        self._commit(new)

    def remove_instance_from_interface_config(self: Conductor, interface_id: str, instance_id: str) -> None:
        iface = self.config.interface(interface_id)
        if iface is None:
            raise ConfigError(f"Interface with ID {interface_id} not found")
        if not any(r.id == instance_id for r in iface.instances):
            raise ConfigError(f"No Instance '{instance_id}' in interface '{interface_id}'")
        new = self.config.copy()
        target = new.interface(interface_id)
        assert target is not None
        target.instances = [r for r in target.instances if r.id != instance_id]
        self._check(new)
        self._commit(new)

    # -- bridges ----------------------------------------------------------------------------

    def add_bridge(self: Conductor, caller_id: str, callee_id: str, handle: str) -> None:
        if any(b.caller_id == caller_id and b.callee_id == callee_id for b in self.config.bridges):
            raise ConfigError(f"Bridge from instance '{caller_id}' to instance '{callee_id}' already exists")
        new = self.config.copy()
        new.bridges.append(BridgeConfig(caller_id, callee_id, handle))
        self._check(new)
        self._commit(new)
        self.notify(f'Added bridge from "{caller_id}" to "{callee_id}" as "{handle}"')

    def remove_bridge(self: Conductor, caller_id: str, callee_id: str) -> None:
        if not any(b.caller_id == caller_id and b.callee_id == callee_id for b in self.config.bridges):
            raise ConfigError(f"Bridge from instance '{caller_id}' to instance '{callee_id}' does not exist")
        new = self.config.copy()
        new.bridges = [b for b in new.bridges if not (b.caller_id == caller_id and b.callee_id == callee_id)]
        self._check(new)
        self._commit(new)
        self.notify(f'Bridge from "{caller_id}" to "{callee_id}" removed')

    # -- UI bundles and UI interfaces (configuration only) -----------------------------------

    def install_ui(self: Conductor, bundle_id: str, root_dir: str) -> None:
        if self.config.ui_bundle(bundle_id) is not None:
            raise ConfigError(f"Duplicate UI bundle IDs detected: {bundle_id}")
        if not self.resolve(root_dir).is_dir():
            raise ConfigError(f"UI bundle root_dir {root_dir} is not a directory")
        new = self.config.copy()
        new.ui_bundles.append(UiBundleConfig(bundle_id, root_dir))
        self._check(new)
        self._commit(new)

    def uninstall_ui(self: Conductor, bundle_id: str) -> list[str]:
        """Removes the bundle and the UI interfaces serving it; returns their ids."""
        if self.config.ui_bundle(bundle_id) is None:
            raise ConfigError(f'No UI bundles match the given ID "{bundle_id}"')
        new = self.config.copy()
        removed = [u.id for u in new.ui_interfaces if u.bundle == bundle_id]
        new.ui_bundles = [b for b in new.ui_bundles if b.id != bundle_id]
        new.ui_interfaces = [u for u in new.ui_interfaces if u.bundle != bundle_id]
        self._check(new)
        self._commit(new)
        return removed

    def add_ui_interface(self: Conductor, ui: UiInterfaceConfig) -> None:
        if any(u.id == ui.id for u in self.config.ui_interfaces):
            raise ConfigError(f"Duplicate UI interface IDs detected: {ui.id}")
        new = self.config.copy()
        new.ui_interfaces.append(ui)
        self._check(new)
        self._commit(new)

    def remove_ui_interface(self: Conductor, ui_id: str) -> None:
        if not any(u.id == ui_id for u in self.config.ui_interfaces):
            raise ConfigError(f"No UI interface with ID '{ui_id}'")
        new = self.config.copy()
        new.ui_interfaces = [u for u in new.ui_interfaces if u.id != ui_id]
        self._check(new)
        self._commit(new)

    # -- debug views ------------------------------------------------------------------------

    def _instance(self: Conductor, instance_id: str) -> Instance:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InstanceError("Instance does not exist")
        return instance

    def state_dump(self: Conductor, instance_id: str, *, source_chain: bool = True) -> dict[str, Any]:
        """holochain-rust's ``StateDump`` (the fields this conductor keeps; queues are empty)."""
        instance = self._instance(instance_id)
        chain: list[Any] = []
        if source_chain:
            for record in instance.chain.records_desc():
                if record.entry is None or record.entry.variant == "Dna":
                    continue
                chain.append([{"entry": record.entry.value, "header": record.header.to_json()}, record.header.address])
            chain.reverse()
        return {
            "queued_calls": [],
            "running_calls": [],
            "call_results": [],
            "query_flows": [],
            "validation_package_flows": [],
            "direct_message_flows": [],
            "queued_holding_workflows": [],
            "in_process_holding_workflows": [],
            "held_aspects": {},
            "source_chain": chain,
            "eavis": None,
        }

    def get_meta(self: Conductor, instance_id: str, address: str) -> dict[str, Any]:
        """``admin/instance/get_meta``: the headers this instance holds for an entry.

        Aspects and link counts are the DHT layer's; this conductor reports the
        headers it holds and counts no aspects it cannot name.
        """
        instance = self._instance(instance_id)
        headers = [ChainHeader.from_json(cjson.loads(h)).address for h in instance.store.held_headers(address)]
        return {"headers": headers, "aspects": [], "link_add_count": 0, "link_remove_count": 0}

    def fetch_cas(self: Conductor, instance_id: str, address: str) -> dict[str, str]:
        """``debug/fetch_cas``: what the instance stores at an address, for people to read."""
        instance = self._instance(instance_id)
        text = instance.store.get_content(address)
        if text is None:
            raise InstanceError("The requested entry could not be found locally")
        try:
            entry = Entry.from_json(cjson.loads(text))
        except (cjson.JSONDecodeError, EntryShapeError):
            return {"type": "UNKNOWN", "content": text}
        variant = entry.variant
        body = entry.value[variant]
        if variant == "Dna":
            content = "DNA omitted"
        elif variant == "AgentId":
            content = body["nick"]
        elif variant in ("LinkAdd", "LinkRemove"):
            link = (body if variant == "LinkAdd" else body[0])["link"]
            content = f"({link['link_type']}#{link['tag']})\n\t{link['base']} => {link['target']}"
        elif entry.is_app:
            content = entry.app_value_json
        else:
            content = entry.content
        return {"type": entry.type_name, "content": content}
