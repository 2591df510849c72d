"""App validation: running the DNA's callbacks on an entry, at the author or a holder.

``validate_entry`` in holochain-rust dispatches on the entry kind
(``crates/core/src/nucleus/validation/*.rs``):

* an app entry gets ``Create``, or ``Modify`` when its header names an old
  version (fetched, with its last header, from the DHT);
* a ``Deletion`` gets ``Delete``, sent to the *deleted* entry type's validator;
* ``LinkAdd``/``LinkRemove``: base and target must be gettable, the link type
  must be defined (found by type name alone), the base and target types must
  be the ones it is defined between, then the link's validator runs;
* an ``AgentId`` is validated by every zome's ``validate_agent``;
* the DNA, grants and header-entries always pass.

Validators are zome code: this module runs in a zome-call greenlet and may
suspend it to fetch dependencies.  A dependency that cannot be found yet is
:class:`Unresolved` — at the author that fails the commit, at a holder it
leaves the op pending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.entry import Entry
from ..core.errors import HolochainError, WorkflowError
from ..core.header import ChainHeader
from ..core.links import link_debug
from ..core.rust_text import rust_debug_str
from ..core.validation import SYSTEM_PACKAGE_DEFINITIONS
from .cascade import Cascade
from .workspace import Workspace

__all__ = ["AppValidation", "Unresolved", "LinkDefinitionPath", "PackageFactory"]

PackageFactory = Callable[[Any], Mapping[str, Any]]


class Unresolved(WorkflowError):
    """Validation needs entries that cannot be found yet (holochain-rust's UnresolvedDependencies)."""

    def __init__(self, addresses: list[str], why: str = "") -> None:
        self.addresses = addresses
        super().__init__(why or f"missing dependencies: {', '.join(addresses)}")


class LinkDefinitionPath:
    """Where a link type is defined: zome, entry type, direction, and the types it links."""

    __slots__ = ("zome", "entry_type", "direction", "link_type", "base_type", "target_type")

    def __init__(
        self, zome: str, entry_type: str, direction: str, link_type: str, base_type: str, target_type: str
    ) -> None:
        self.zome = zome
        self.entry_type = entry_type
        self.direction = direction
        self.link_type = link_type
        self.base_type = base_type
        self.target_type = target_type


class AppValidation:
    """The ``app_validation`` workflow: the DNA's validation callbacks on an entry."""

    def __init__(self, ws: Workspace, cascade: Cascade) -> None:
        self.ws = ws
        self.cascade = cascade
        self.dna = ws.dna
        self.ribosome = ws.ribosome

    # -- definitions ---------------------------------------------------------------------------

    def find_link_definition(self, link_type: str) -> LinkDefinitionPath | None:
        """The first definition of ``link_type`` over zomes, entry types, ``links_to`` then ``linked_from``."""
        for zome_name, zome in self.dna.zomes.items():
            for type_name, definition in zome["entry_types"].items():
                if type_name.startswith("%"):
                    continue
                for link in definition["links_to"]:
                    if link["link_type"] == link_type:
                        return LinkDefinitionPath(zome_name, type_name, "to", link_type, type_name, link["target_type"])
                for link in definition["linked_from"]:
                    if link["link_type"] == link_type:
                        return LinkDefinitionPath(zome_name, type_name, "from", link_type, link["base_type"], type_name)
        return None

    def package_definition(self, entry: Entry) -> Any:
        """The validation-package definition the entry's validator asks for."""
        if entry.is_app:
            found = self.dna.entry_type_def(entry.type_name)
            if found is not None:
                return self.ribosome.entry_package_definition(found[0], entry.type_name)
            return "Entry"
        if entry.variant in ("LinkAdd", "LinkRemove"):
            body = entry.value["LinkAdd"] if entry.variant == "LinkAdd" else entry.value["LinkRemove"][0]
            path = self.find_link_definition(body["link"]["link_type"])
            if path is not None:
                return self.ribosome.link_package_definition(path.zome, path.entry_type, path.link_type, path.direction)
            return "Entry"
        return SYSTEM_PACKAGE_DEFINITIONS.get(entry.variant, "Entry")

    # -- dispatch --------------------------------------------------------------------------------

    def validate(
        self, entry: Entry, header: ChainHeader, lifecycle: str, package: PackageFactory, *, holding: bool
    ) -> None:
        """Raise :class:`HolochainError` if invalid, :class:`Unresolved` if it cannot tell yet.

        A refusal is also noted on the instance (the dashboard shows it, with its reason)."""
        try:
            self._validate(entry, header, lifecycle, package, holding)
        except HolochainError as exc:
            self.ws.validation_log.note(entry.address, entry.type_name, holding, exc.display())
            raise

    def _validate(
        self, entry: Entry, header: ChainHeader, lifecycle: str, package: PackageFactory, holding: bool
    ) -> None:
        variant = entry.variant
        if variant == "App":
            self._app(entry, header, lifecycle, package, holding)
        elif variant == "Deletion":
            self._deletion(entry, header, lifecycle, package, holding)
        elif variant in ("LinkAdd", "LinkRemove"):
            self._link(entry, lifecycle, package, holding)
        elif variant == "AgentId":
            self._agent(entry, lifecycle, package)
        elif variant in ("Dna", "CapTokenGrant", "ChainHeader"):
            return
        else:
            raise HolochainError.not_implemented("Validation not implemented")

    def _zome_of(self, entry: Entry) -> str:
        found = self.dna.entry_type_def(entry.type_name)
        if found is None or not self.ribosome.has_zome(found[0]):
            raise HolochainError.validation_failed(f"Unknown app entry type '{entry.type_name}'")
        return found[0]

    def _old_version(self, address: str, holding: bool, missing: str) -> tuple[Entry, dict[str, Any] | None]:
        record = self.cascade.lookup(address, with_network=True)
        if record is None:
            if holding:
                raise Unresolved([address])
            raise HolochainError.validation_failed(missing)
        header = record.headers[-1] if record.headers else None
        return Entry(record.entry), header

    def _run_entry_validator(self, zome: str, type_name: str, action: str, entry: Entry | None, *rest: Any) -> None:
        package, lifecycle, old, old_header = rest
        reason = self.ribosome.validate_entry(
            zome, type_name, action, entry, package, lifecycle, self.ws.zome_host(zome), old, old_header
        )
        if reason is not None:
            raise HolochainError.validation_failed(reason)

    def _app(self, entry: Entry, header: ChainHeader, lifecycle: str, package: PackageFactory, holding: bool) -> None:
        zome = self._zome_of(entry)
        chosen = package(self.package_definition(entry))
        old_address = header.link_update_delete
        if old_address is None:
            self._run_entry_validator(zome, entry.type_name, "create", entry, chosen, lifecycle, None, None)
            return
        old, old_header = self._old_version(
            old_address,
            holding,
            f"Could not find App Entry during validation, got err: entry {old_address} not found",
        )
        if not old.is_app:
            raise HolochainError.validation_failed("Entry type should be App Type")
        self._zome_of(old)
        self._run_entry_validator(zome, entry.type_name, "modify", entry, chosen, lifecycle, old, old_header)

    def _deletion(
        self, entry: Entry, header: ChainHeader, lifecycle: str, package: PackageFactory, holding: bool
    ) -> None:
        deleted = entry.value["Deletion"]["deleted_entry_address"]
        old, old_header = self._old_version(deleted, holding, "Could not obtain entry for link_update_delte")
        if not old.is_app:
            raise HolochainError.validation_failed("Entry type should be App Type")
        zome = self._zome_of(old)
        self._run_entry_validator(zome, old.type_name, "delete", None, package("ChainFull"), lifecycle, old, old_header)

    def link_entries(self, link: dict[str, str], holding: bool) -> tuple[Entry, Entry]:
        """Base and target, latest versions (holochain-rust's ``get_link_entries``)."""
        cascade = self.cascade
        base = cascade.latest_entry(link["base"])
        if base is None:
            if holding:
                raise Unresolved([link["base"]])
            raise HolochainError.generic(f"Base for link not found: {link_debug(link)}")
        target = cascade.latest_entry(link["target"])
        if target is None:
            if holding:
                raise Unresolved([link["target"]])
            raise HolochainError.generic(f"Target for link not found: {link_debug(link)}")
        return base, target

    def _link(self, entry: Entry, lifecycle: str, package: PackageFactory, holding: bool) -> None:
        is_add = entry.variant == "LinkAdd"
        link_data = entry.value["LinkAdd"] if is_add else entry.value["LinkRemove"][0]
        link = link_data["link"]
        if holding and not is_add:
            missing = [a for a in entry.value["LinkRemove"][1] if self.ws.shard.entry(a) is None]
            if missing:
                raise Unresolved(missing)
        base, target = self.link_entries(link, holding)
        path = self.find_link_definition(link["link_type"])
        if path is None:
            if holding:
                raise HolochainError.not_implemented("Validation not implemented")
            raise HolochainError.generic("Unknown entry type")
        if base.type_name != path.base_type:
            raise HolochainError.validation_failed(
                f"Wrong base type for link of type '{link['link_type']}'. Found '{path.base_type}', "
                f"but link is defined to link from '{base.type_name}'s."
            )
        if target.type_name != path.target_type:
            raise HolochainError.validation_failed(
                f"Wrong target type for link of type '{link['link_type']}'. Found '{path.target_type}', "
                f"but link is defined to link to '{target.type_name}'s."
            )
        reason = self.ribosome.validate_link(
            path.zome,
            path.link_type,
            "add" if is_add else "remove",
            link_data,
            package(self.package_definition(entry)),
            lifecycle,
            path.entry_type,
            path.direction,
            self.ws.zome_host(path.zome),
        )
        if reason is not None:
            raise HolochainError.validation_failed(reason)

    def _agent(self, entry: Entry, lifecycle: str, package: PackageFactory) -> None:
        agent = dict(entry.value["AgentId"])
        failures = self.ribosome.validate_agent(agent, package("Entry"), lifecycle, self.ws.zome_host)
        if failures:
            errors = ", ".join(f"Fail({rust_debug_str(reason)})" for _, reason in failures)
            raise HolochainError.generic(f"Failed to validate agent ID on a zome, [{errors}]")
