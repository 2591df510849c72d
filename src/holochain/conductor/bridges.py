"""Bridges: which instance a zome may call through which handle.

A DNA's zomes declare the bridges they need (``handle``, ``presence``
required/optional, and a ``reference``: the callee's DNA address, or traits
with function declarations the callee must expose); the configuration's
``[[bridges]]`` connect a caller instance to a callee instance under a handle.
:func:`check_bridges` is holochain-rust's part of the consistency check that
needs the DNAs; the calls themselves go through
:meth:`holochain.conductor.conductor.Conductor.bridge_call`.
"""

from __future__ import annotations

from typing import Any

from ..core.dna import Dna
from .config import BridgeConfig, ConfigError, Configuration

__all__ = ["check_bridges", "required_bridges", "bridge_definition"]


def required_bridges(dna: Dna) -> list[str]:
    """Handles of the bridges a DNA cannot run without."""
    return [b["handle"] for zome in dna.zomes.values() for b in zome["bridges"] if b["presence"] == "required"]


def bridge_definition(dna: Dna, handle: str) -> dict[str, Any] | None:
    found = None
    for zome in dna.zomes.values():
        for b in zome["bridges"]:
            if b["handle"] == handle:
                found = b
    return found


def _rust_list(functions: list[dict[str, Any]]) -> str:
    """Function declarations roughly as Rust's ``{:?}`` prints them."""

    def param(p: dict[str, str]) -> str:
        return f'FnParameter {{ parameter_type: "{p["type"]}", name: "{p["name"]}" }}'

    return (
        "["
        + ", ".join(
            f'FnDeclaration {{ name: "{f["name"]}", inputs: [{", ".join(param(p) for p in f["inputs"])}], '
            f"outputs: [{', '.join(param(p) for p in f['outputs'])}] }}"
            for f in functions
        )
        + "]"
    )


def _check_reference(config: Configuration, bridge: BridgeConfig, definition: dict[str, Any], callee: Dna) -> None:
    reference = definition["reference"]
    if "dna_address" in reference:
        if reference["dna_address"] != callee.address:
            raise ConfigError(
                f"Bridge '{bridge.handle}' of caller instance '{bridge.caller_id}' requires callee to be DNA "
                f"with hash '{reference['dna_address']}', but the configured instance '{bridge.callee_id}' runs "
                f"DNA with hash '{callee.address}'."
            )
        return
    for trait_name, expected in reference["traits"].items():
        wanted = expected["functions"]
        found = False
        for zome in callee.zomes.values():
            trait = zome["traits"].get(trait_name)
            if trait is None:
                continue
            if all(f["name"] in trait["functions"] for f in wanted) and all(
                f in zome["fn_declarations"] for f in wanted
            ):
                found = True
        if not found:
            raise ConfigError(
                f"Bridge '{bridge.handle}' of instance '{bridge.caller_id}' requires callee to to implement "
                f"trait '{trait_name}' with functions: {_rust_list(wanted)}"
            )


def check_bridges(config: Configuration, dnas: dict[str, Dna]) -> None:
    """Required bridges are configured; every bridge fits its caller's and callee's DNAs.

    ``dnas`` maps DNA config ids to the DNAs their instances run.
    """
    handles = {b.handle for b in config.bridges}
    for inst in config.instances:
        for handle in required_bridges(dnas[inst.dna]):
            if handle not in handles:
                raise ConfigError(f"Required bridge '{handle}' for instance '{inst.id}' missing")
    for bridge in config.bridges:
        caller = config.instance(bridge.caller_id)
        callee = config.instance(bridge.callee_id)
        if caller is None or callee is None:  # reported by check_consistency
            continue
        definition = bridge_definition(dnas[caller.dna], bridge.handle)
        if definition is None:
            raise ConfigError(f"No bridge definition with handle '{bridge.handle}' found in {bridge.caller_id}'s DNA")
        _check_reference(config, bridge, definition, dnas[callee.dna])
