"""The conductor's side of the admin API: changes to DNAs, agents, instances,
bridges and UI bundles, and the debug views, as :class:`ConductorAdmin`, which
a :class:`~holochain.conductor.conductor.Conductor` holds as ``conductor.admin``.

Every change follows holochain-rust's pattern and improves on it in one way:
build a changed copy of the configuration, run the whole consistency check on
it, do what can fail (load the DNA, create the instance, write the keystore),
and only then swap the copy in and save it atomically to
``<persistence_dir>/conductor-config.toml``.  A failed change leaves the
running conductor and the saved file as they were.  That sequence is written
once (:meth:`ConductorAdmin._change`), and so is removing what takes
instances with it (:meth:`ConductorAdmin._remove_with_instances`).

Interfaces are started and stopped by the interface layer
(:mod:`holochain.interfaces.admin_methods`), which calls the configuration parts
here (``add_interface_config`` …) and then restarts its servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
from .dna_files import ConductorError, load_dna_file
from .ids import id_problem, path_for_id
from .keystore import Keystore
from .passphrase import PassphraseError

if TYPE_CHECKING:
    from .conductor import Conductor

__all__ = ["ConductorAdmin", "ADMIN_STORAGE_KINDS"]

ADMIN_STORAGE_KINDS = ("memory", "file", "pickle", "lmdb", "sqlite")

T = TypeVar("T")


def _remove_instance_from(config: Configuration, instance_id: str) -> None:
    """holochain-rust's ``save_remove_instance``: the instance and its interface references."""
    config.instances = [i for i in config.instances if i.id != instance_id]
    for iface in config.interfaces:
        iface.instances = [r for r in iface.instances if r.id != instance_id]


def _check_new_id(kind: str, value: str) -> None:
    """Before a change writes anything (a keystore, a DNA copy): the id it adds follows the rule."""
    problem = id_problem(kind, value)
    if problem is not None:
        raise ConfigError(problem)


class ConductorAdmin:
    """The admin operations on one conductor (its configuration, instances and keys)."""

    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor

    # -- the change pattern ------------------------------------------------------------

    def _check(self, config: Configuration) -> None:
        config.check_consistency()
        self.conductor.check_dnas(config)

    def _commit(self, config: Configuration) -> None:
        self.conductor.config = config
        self.conductor.save()

    def _change(self, edit: Callable[[Configuration], T]) -> T:
        """Copy the configuration, ``edit`` the copy, check it whole, swap it in and save it."""
        new = self.conductor.config.copy()
        out = edit(new)
        self._check(new)
        self._commit(new)
        return out

    def _remove_with_instances(
        self, edit: Callable[[Configuration], None], goes: Callable[[InstanceConfig], bool]
    ) -> None:
        """A change that removes something and every instance that ``goes`` with it, which are
        then stopped and closed (holochain-rust kept them, stopped, in its instance map; closing
        releases their stores, so an instance added later under the same id cannot open the
        same database twice)."""

        def remove(new: Configuration) -> list[str]:
            edit(new)
            removed = [i.id for i in new.instances if goes(i)]
            for instance_id in removed:
                _remove_instance_from(new, instance_id)
            return removed

        for instance_id in self._change(remove):
            self.conductor._close_instance(instance_id)
            self.conductor.notify(f'Removed instance "{instance_id}".')

    def _storage_dir(self) -> Path:
        persistence_dir = self.conductor.persistence_dir
        if persistence_dir is None:
            raise ConfigError("persistence_dir is not set, so the conductor has nowhere to keep new data")
        return persistence_dir / "storage"

    # -- DNAs ----------------------------------------------------------------------------

    async def install_dna_from_file(
        self,
        dna_id: str,
        path: str,
        *,
        copy: bool = False,
        expected_hash: str | None = None,
        properties: Any = None,
        uuid: str | None = None,
    ) -> str:
        _check_new_id("dna", dna_id)
        conductor = self.conductor
        try:
            dna = await asyncio.to_thread(
                load_dna_file, conductor.resolve(path)
            )  # a slow disk must not stop the interfaces
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
        if conductor.config.dna(dna_id) is not None:
            raise ConfigError(f"Duplicate dna IDs detected: {dna_id}")
        stored_path = path
        if copy:
            if conductor.persistence_dir is None:
                raise ConfigError("persistence_dir is not set, so the DNA cannot be copied")
            target = conductor.persistence_dir / "dna" / f"{dna.address}.dna.json"
            write_private(target, dna.to_pretty_json())
            stored_path = str(target)
        self._change(lambda new: new.dnas.append(DnaConfig(dna_id, stored_path, dna.address, uuid)))
        conductor.notify(f'Installed DNA from {path} as "{dna_id}"')
        return dna.address

    def uninstall_dna(self, dna_id: str) -> None:
        def edit(new: Configuration) -> None:
            new.dnas = [d for d in new.dnas if d.id != dna_id]

        self._remove_with_instances(edit, lambda i: i.dna == dna_id)
        self.conductor.notify(f'Uninstalled DNA "{dna_id}".')

    # -- agents ---------------------------------------------------------------------------

    async def add_agent(self, agent_id: str, name: str, holo_remote_key: str | None = None) -> str:
        """A new agent with a new keystore (or a remote key); returns its address."""
        _check_new_id("agent", agent_id)
        conductor = self.conductor
        if conductor.config.agent(agent_id) is not None:
            raise ConfigError(f"Agent with ID '{agent_id}' already exists")
        if holo_remote_key is not None:
            agent = AgentConfig(agent_id, name, holo_remote_key, "::ignored::", holo_remote_key=True)
            self._change(lambda new: new.agents.append(agent))
            return holo_remote_key
        keystore = Keystore.generate()
        path = self._storage_dir() / keystore.public_address
        try:
            passphrase = await asyncio.to_thread(conductor.passphrases.passphrase)
            await asyncio.to_thread(keystore.save, path, passphrase)
        except PassphraseError as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"cannot write the keystore {path}: {exc.strerror}") from None
        self._change(lambda new: new.agents.append(AgentConfig(agent_id, name, keystore.public_address, str(path))))
        conductor.agent_keys[agent_id] = keystore.agent_key
        return keystore.public_address

    def add_test_agent(self, agent_id: str, name: str) -> str:
        if self.conductor.config.agent(agent_id) is not None:
            raise ConfigError(f"Agent with ID '{agent_id}' already exists")
        key = AgentKey.for_test_agent(name)
        self._change(lambda new: new.agents.append(AgentConfig(agent_id, name, key.address, name, test_agent=True)))
        self.conductor.agent_keys[agent_id] = key
        return key.address

    def remove_agent(self, agent_id: str) -> None:
        if self.conductor.config.agent(agent_id) is None:
            raise ConfigError(f"Agent with ID '{agent_id}' does not exist")

        def edit(new: Configuration) -> None:
            new.agents = [a for a in new.agents if a.id != agent_id]

        self._remove_with_instances(edit, lambda i: i.agent == agent_id)
        self.conductor.agent_keys.pop(agent_id, None)
        self.conductor.notify(f'Removed agent "{agent_id}".')

    # -- instances ------------------------------------------------------------------------

    async def add_instance(self, instance_id: str, dna_id: str, agent_id: str, storage: str | None = None) -> None:
        conductor = self.conductor
        kind = storage or "lmdb"
        if kind not in ADMIN_STORAGE_KINDS:
            raise ConfigError(f"Invalid storage option: {kind}")
        try:
            path = path_for_id(self._storage_dir(), "instance", instance_id)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        new = conductor.config.copy()
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
        old = conductor.config
        conductor.config = new  # instantiation reads the DNA and agent from it
        try:
            await conductor._create_instance(new.instances[-1])
        except BaseException:
            conductor.config = old
            raise
        conductor.save()
        conductor.notify(f'Added instance "{instance_id}".')

    def remove_instance(self, instance_id: str) -> None:
        self._change(lambda new: _remove_instance_from(new, instance_id))
        self.conductor._close_instance(instance_id)
        self.conductor.notify(f'Removed instance "{instance_id}".')

    # -- interfaces (configuration only; the interface layer runs the servers) ------------

    def add_interface_config(self, iface: InterfaceConfig) -> None:
        if self.conductor.config.interface(iface.id) is not None:
            raise ConfigError(f"Interface with ID '{iface.id}' already exists")
        self._change(lambda new: new.interfaces.append(iface))

    def remove_interface_config(self, interface_id: str) -> None:
        if self.conductor.config.interface(interface_id) is None:
            raise ConfigError(f"No such interface: '{interface_id}'")

        def edit(new: Configuration) -> None:
            new.interfaces = [i for i in new.interfaces if i.id != interface_id]

        self._change(edit)

    def _interface_in(self, new: Configuration, interface_id: str) -> InterfaceConfig:
        target = new.interface(interface_id)
        assert target is not None  # checked on the current configuration, of which ``new`` is a copy
        return target

    def add_instance_to_interface_config(self, interface_id: str, instance_id: str, alias: str | None) -> None:
        iface = self.conductor.config.interface(interface_id)
        if iface is None:
            raise ConfigError(f"Interface with ID {interface_id} not found")
        if any(r.id == instance_id for r in iface.instances):
            raise ConfigError(f"Instance '{instance_id}' already in interface '{interface_id}'")
        self._change(
            lambda new: self._interface_in(new, interface_id).instances.append(InstanceRef(instance_id, alias))
        )

    def remove_instance_from_interface_config(self, interface_id: str, instance_id: str) -> None:
        iface = self.conductor.config.interface(interface_id)
        if iface is None:
            raise ConfigError(f"Interface with ID {interface_id} not found")
        if not any(r.id == instance_id for r in iface.instances):
            raise ConfigError(f"No Instance '{instance_id}' in interface '{interface_id}'")

        def edit(new: Configuration) -> None:
            target = self._interface_in(new, interface_id)
            target.instances = [r for r in target.instances if r.id != instance_id]

        self._change(edit)

    # -- bridges ----------------------------------------------------------------------------

    def _has_bridge(self, caller_id: str, callee_id: str) -> bool:
        return any(b.caller_id == caller_id and b.callee_id == callee_id for b in self.conductor.config.bridges)

    def add_bridge(self, caller_id: str, callee_id: str, handle: str) -> None:
        if self._has_bridge(caller_id, callee_id):
            raise ConfigError(f"Bridge from instance '{caller_id}' to instance '{callee_id}' already exists")
        self._change(lambda new: new.bridges.append(BridgeConfig(caller_id, callee_id, handle)))
        self.conductor.notify(f'Added bridge from "{caller_id}" to "{callee_id}" as "{handle}"')

    def remove_bridge(self, caller_id: str, callee_id: str) -> None:
        if not self._has_bridge(caller_id, callee_id):
            raise ConfigError(f"Bridge from instance '{caller_id}' to instance '{callee_id}' does not exist")

        def edit(new: Configuration) -> None:
            new.bridges = [b for b in new.bridges if not (b.caller_id == caller_id and b.callee_id == callee_id)]

        self._change(edit)
        self.conductor.notify(f'Bridge from "{caller_id}" to "{callee_id}" removed')

    # -- UI bundles and UI interfaces (configuration only) -----------------------------------

    def install_ui(self, bundle_id: str, root_dir: str) -> None:
        if self.conductor.config.ui_bundle(bundle_id) is not None:
            raise ConfigError(f"Duplicate UI bundle IDs detected: {bundle_id}")
        if not self.conductor.resolve(root_dir).is_dir():
            raise ConfigError(f"UI bundle root_dir {root_dir} is not a directory")
        self._change(lambda new: new.ui_bundles.append(UiBundleConfig(bundle_id, root_dir)))

    def uninstall_ui(self, bundle_id: str) -> list[str]:
        """Removes the bundle and the UI interfaces serving it; returns their ids."""
        if self.conductor.config.ui_bundle(bundle_id) is None:
            raise ConfigError(f'No UI bundles match the given ID "{bundle_id}"')

        def edit(new: Configuration) -> list[str]:
            removed = [u.id for u in new.ui_interfaces if u.bundle == bundle_id]
            new.ui_bundles = [b for b in new.ui_bundles if b.id != bundle_id]
            new.ui_interfaces = [u for u in new.ui_interfaces if u.bundle != bundle_id]
            return removed

        return self._change(edit)

    def add_ui_interface(self, ui: UiInterfaceConfig) -> None:
        if any(u.id == ui.id for u in self.conductor.config.ui_interfaces):
            raise ConfigError(f"Duplicate UI interface IDs detected: {ui.id}")
        self._change(lambda new: new.ui_interfaces.append(ui))

    def remove_ui_interface(self, ui_id: str) -> None:
        if not any(u.id == ui_id for u in self.conductor.config.ui_interfaces):
            raise ConfigError(f"No UI interface with ID '{ui_id}'")

        def edit(new: Configuration) -> None:
            new.ui_interfaces = [u for u in new.ui_interfaces if u.id != ui_id]

        self._change(edit)

    # -- debug views ------------------------------------------------------------------------

    def _instance(self, instance_id: str) -> Instance:
        instance = self.conductor.instances.get(instance_id)
        if instance is None:
            raise InstanceError("Instance does not exist")
        return instance

    def state_dump(self, instance_id: str, *, source_chain: bool = True) -> dict[str, Any]:
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

    def get_meta(self, instance_id: str, address: str) -> dict[str, Any]:
        """``admin/instance/get_meta``: the headers this instance holds for an entry.

        Aspects and link counts are the DHT layer's; this conductor reports the
        headers it holds and counts no aspects it cannot name.
        """
        instance = self._instance(instance_id)
        headers = [ChainHeader.from_json(cjson.loads(h)).address for h in instance.store.held_headers(address)]
        return {"headers": headers, "aspects": [], "link_add_count": 0, "link_remove_count": 0}

    def fetch_cas(self, instance_id: str, address: str) -> dict[str, str]:
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
