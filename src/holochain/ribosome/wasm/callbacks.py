"""A WASM zome as the ribosome sees it: functions and callbacks, JSON in and JSON out.

The argument shapes are holochain-rust's (``crates/core/src/nucleus/validation``,
``crates/core/src/wasm_engine/callback``): ``EntryValidationArgs``,
``LinkValidationArgs``, ``AgentIdValidationArgs``, ``"Init"``, ``ReceiveParams``.
Validation-package definitions are static in every HDK (a closure returning a
constant), so they are asked once when the zome loads, not per validation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ...core import json as cjson
from ...core.dna import Dna
from ...core.errors import RibosomeErrorCode, ZomeExecutionError
from .. import runner
from .wasm_zome import HDK_VERSION, WasmZome, may_run_on_loop

__all__ = ["WasmZomeRunner", "load", "package_json"]

log = logging.getLogger(__name__)

_PACKAGE_KEYS = ("chain_header", "source_chain_entries", "source_chain_headers", "custom")
_loaded: dict[tuple[str, str], WasmZomeRunner] = {}
_lock = threading.Lock()


def package_json(package: Any) -> dict[str, Any]:
    """A (lazy) validation package as the ``ValidationPackage`` JSON object."""
    if isinstance(package, Mapping):
        return {key: package.get(key) for key in _PACKAGE_KEYS}
    return package


def validation_data(package: Any, lifecycle: str) -> dict[str, Any]:
    return {"package": package_json(package), "lifecycle": lifecycle}


def load(dna: Dna, name: str, code: bytes) -> WasmZomeRunner:
    """The zome ``name`` of ``dna``, loaded once per process (per DNA and zome)."""
    key = (dna.address, name)
    with _lock:
        found = _loaded.get(key)
    if found is None:
        found = WasmZomeRunner(dna, name, code)
        with _lock:
            found = _loaded.setdefault(key, found)
    return found


def _globals_offline(dna: Dna) -> str:
    return cjson.dumps(
        {
            "dna_name": dna.name,
            "dna_address": dna.address,
            "agent_id_str": "",
            "agent_address": "",
            "agent_initial_hash": "",
            "agent_latest_hash": "",
            "public_token": "",
            "cap_request": None,
            "properties": cjson.dumps(dna.properties),
        }
    )


def globals_json(host: Any) -> str:
    """``ZomeApiGlobals`` for this call, in the HDK's field order (``properties`` as JSON text)."""
    g = host.global_value
    return cjson.dumps(
        {
            "dna_name": g("DNA_NAME"),
            "dna_address": g("DNA_ADDRESS"),
            "agent_id_str": g("AGENT_ID_STR"),
            "agent_address": g("AGENT_ADDRESS"),
            "agent_initial_hash": g("AGENT_INITIAL_HASH"),
            "agent_latest_hash": g("AGENT_LATEST_HASH"),
            "public_token": g("PUBLIC_TOKEN"),
            "cap_request": g("CAPABILITY_REQ"),
            "properties": g("PROPERTIES"),
        }
    )


class WasmZomeRunner:
    """One DNA's WASM zome: what to call, and the definitions asked once at load."""

    def __init__(self, dna: Dna, name: str, code: bytes) -> None:
        self.name = name
        definition = dna.zomes[name]
        declared = [f["name"] for f in definition.get("fn_declarations", [])]
        self.zome = WasmZome(name, code, declared)
        self.functions = self.zome.functions
        offline = _globals_offline(dna)
        self.hdk_version = self._ask("__hdk_hdk_version", "{}", offline)
        if self.hdk_version is not None and self.hdk_version != HDK_VERSION:
            log.warning(
                "zome '%s' was built with HDK %s; this conductor implements HDK %s's host API",
                name,
                self.hdk_version,
                HDK_VERSION,
            )
        self.entry_packages: dict[str, Any] = {}
        self.link_packages: dict[tuple[str, str, str], Any] = {}
        for type_name, entry_def in definition.get("entry_types", {}).items():
            if type_name.startswith("%"):
                continue
            self.entry_packages[type_name] = self._package(
                "__hdk_get_validation_package_for_entry_type", type_name, offline
            )
            for key, direction in (("links_to", "To"), ("linked_from", "From")):
                for link in entry_def.get(key, []):
                    args = {"entry_type": type_name, "link_type": link["link_type"], "direction": direction}
                    self.link_packages[(type_name, link["link_type"], direction)] = self._package(
                        "__hdk_get_validation_package_for_link", cjson.dumps(args), offline
                    )

    def _ask(self, export: str, input_text: str, offline: str) -> str | None:
        if not self.zome.has(export):
            return None
        try:
            result = self.zome.run_here(export, input_text, None, offline)
        except ZomeExecutionError as exc:
            log.warning("%s", exc)
            return None
        return result if isinstance(result, str) else None

    def _package(self, export: str, input_text: str, offline: str) -> Any:
        text = self._ask(export, input_text, offline)
        if text is None:
            return "Entry"
        try:
            return cjson.loads(text)
        except cjson.JSONDecodeError:
            log.warning("zome '%s': %s answered %r, not a package definition", self.name, export, text)
            return "Entry"

    # -- running, from the event loop --------------------------------------------------------

    def start(self, export: str, input_text: str | None, host: Any) -> runner.Pending:
        """Run ``export`` on a worker; a Pending whose future gives the output (see :meth:`WasmCall.run`)."""
        future = self.zome.start(export, input_text, host, lambda: globals_json(host))
        return runner.Pending(future)

    def run_blocking(self, export: str, input_text: str | None, host: Any) -> Any:
        """Run ``export`` from inside a zome-call greenlet, suspending it until the worker is done."""
        return runner.wait_for(self.zome.start(export, input_text, host, lambda: globals_json(host)))

    async def call_function(self, name: str, args: Any, host: Any) -> Any:
        output = await self.start(name, None if args is None else cjson.dumps(args), host).future
        return self.function_result(name, output)

    def function_result(self, name: str, output: Any) -> Any:
        if output is None:
            return None
        if isinstance(output, RibosomeErrorCode):
            raise ZomeExecutionError(self.name, name, output.text)
        try:
            cjson.loads(output)
        except cjson.JSONDecodeError as exc:
            raise ZomeExecutionError(
                self.name, name, f"zome '{self.name}' function '{name}' returned text that is not JSON: {exc}"
            ) from None
        return cjson.RawJson(output)

    # -- callbacks (each from inside a zome-call greenlet) -----------------------------------

    def init(self, host: Any) -> str | None:
        export = self.zome.init_export
        if export is None:
            return None
        try:
            output = self.run(export, '"Init"', host)
        except ZomeExecutionError as exc:
            return str(exc)
        if output is None:
            return None
        return output.text if isinstance(output, RibosomeErrorCode) else output

    def run(self, export: str, input_text: str | None, host: Any) -> Any:
        """Run ``export`` from inside a zome-call greenlet: on the event-loop thread when it is
        free of other WebAssembly (no thread hand-offs; the call yields to the loop at every
        epoch tick), else on a worker while this greenlet waits."""
        if may_run_on_loop():
            return self.zome.run_on_loop(export, input_text, host, lambda: globals_json(host))
        return self.run_blocking(export, input_text, host)

    def validate(self, export: str, args: dict[str, Any], host: Any) -> str | None:
        """Run a validation callback: None if valid, else the reason."""
        if not self.zome.has(export):
            return None
        try:
            output = self.run(export, cjson.dumps(args), host)
        except ZomeExecutionError as exc:
            return f"validation callback failed: {exc}"
        if output is None:
            return None
        if output is RibosomeErrorCode.ArgumentDeserializationFailed:
            return "JSON object does not match entry schema"
        if isinstance(output, RibosomeErrorCode):
            return f"validation callback failed: {output.text}"
        return output

    async def receive(self, sender: str, payload: str, host: Any) -> str:
        text = cjson.dumps({"from": sender, "payload": payload})
        output = await runner.run_to_completion(lambda: self.run("receive", text, host), host)
        if isinstance(output, RibosomeErrorCode):
            raise ZomeExecutionError(self.name, "receive", output.text)
        return "null" if output is None else output
