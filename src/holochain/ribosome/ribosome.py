"""The ribosome: runs a DNA's zome code (functions and callbacks), whatever engine it is.

One :class:`Ribosome` per DNA.  It loads each zome once — a Python zome
(:mod:`.python_zome`) or a WebAssembly one (:mod:`.wasm`) — and presents one
interface for both: zome functions take and return JSON values, callbacks
take entries, links and validation packages as the instance holds them and
answer ``None`` or a reason.  The instance, the validation workflows and the
DHT never see which engine runs a zome, nor build HDK objects.

Python zome code runs in a zome-call greenlet (:mod:`.runner`); WASM code on
a worker thread, its host calls served on the event loop.  Failures of zome
code itself come back as :class:`ZomeFunctionFailure`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..core.dna import Dna
from ..core.entry import Entry
from ..core.errors import ZomeError, ZomeExecutionError
from ..hdk.functions import EntryValidation, LinkValidation, ValidationData
from ..hdk.zome import InitError, ValidationError, Zome, ZomeFunction, to_json_value
from . import runner
from .python_zome import ZomeCodeError, code_kind, load_zome
from .wasm import callbacks as wasm_callbacks
from .wasm.callbacks import WasmZomeRunner, validation_data
from .wasm.wasm_zome import WasmFunction, may_run_on_loop

__all__ = ["Ribosome", "ZomeFunctionFailure", "ZomeCodeError", "FunctionRef"]

FunctionRef = ZomeFunction | WasmFunction  # what Ribosome.function hands out, for call_function

log = logging.getLogger(__name__)


class ZomeFunctionFailure(ZomeError):
    """Zome code raised (or trapped) instead of returning: a bug in the zome, reported to the caller."""


class Ribosome:
    def __init__(self, dna: Dna) -> None:
        self.dna = dna
        self.zomes: dict[str, Zome] = {}  # Python zomes
        self.wasm: dict[str, WasmZomeRunner] = {}
        for name, code in dna.code.items():
            if code_kind(code) == "wasm":
                try:
                    self.wasm[name] = wasm_callbacks.load(dna, name, code)
                except ZomeExecutionError as exc:
                    raise ZomeCodeError(str(exc)) from None
            else:
                self.zomes[name] = load_zome(code, name)
        self.zome_names = sorted([*self.zomes, *self.wasm])

    def has_zome(self, zome: str) -> bool:
        return zome in self.zomes or zome in self.wasm

    def function(self, zome: str, name: str) -> ZomeFunction | WasmFunction | None:
        z = self.zomes.get(zome)
        if z is not None:
            return z.functions.get(name)
        w = self.wasm.get(zome)
        return w.functions.get(name) if w is not None else None

    # -- zome functions ----------------------------------------------------------------------

    def call_function(self, fn: ZomeFunction | WasmFunction, args: Any, host: Any, label: Any) -> Any:
        """Run a zome function; returns its JSON output or a :class:`runner.Pending`.

        ``label`` names the call in the log (its parts are joined with ``/``).
        A WASM function's output is a :class:`~holochain.core.json.RawJson`: the zome's text as it wrote it."""
        name = "/".join(label) if isinstance(label, tuple) else label
        if isinstance(fn, WasmFunction):
            zome = self.wasm[fn.zome.name]
            text = None if args is None else _dumps(args)
            if may_run_on_loop():

                def run_wasm() -> Any:
                    try:
                        return zome.function_result(fn.name, zome.run(fn.name, text, host))
                    except ZomeExecutionError as exc:
                        log.warning("zome function %s failed: %s", name, exc)
                        raise ZomeFunctionFailure(str(exc)) from None

                return runner.start(run_wasm, host)
            pending = zome.start(fn.name, text, host)
            return runner.Pending(asyncio.ensure_future(_finish_wasm(zome, fn.name, pending, name)))

        def run() -> Any:
            try:
                return fn.invoke(args)
            except Exception as exc:
                log.warning("zome function %s raised %s: %s", name, type(exc).__name__, exc, exc_info=exc)
                raise ZomeFunctionFailure(f"{type(exc).__name__}: {exc}") from exc

        return runner.start(run, host)

    # -- callbacks -------------------------------------------------------------------------------

    def init(self, zome: str, host: Any) -> Any:
        """Run a zome's ``init``; ``None`` on success, else the error text (or a Pending of that)."""
        if zome in self.wasm:
            return runner.start(lambda: self.wasm[zome].init(host), host)
        callback = self.zomes[zome].init_callback
        if callback is None:
            return None

        def run() -> str | None:
            try:
                callback()
            except InitError as exc:
                return str(exc)
            except runner.ZomeCallTimeout as exc:
                return str(exc)
            return None

        return runner.start(run, host)

    def entry_package_definition(self, zome: str, type_name: str) -> Any:
        """The validation-package definition the entry type's validator asks for."""
        if zome in self.wasm:
            return self.wasm[zome].entry_packages.get(type_name, "Entry")
        definition = self.zomes[zome].entry_types.get(type_name)
        return definition.validation_package if definition is not None else "Entry"

    def link_package_definition(self, zome: str, entry_type: str, link_type: str, direction: str) -> Any:
        if zome in self.wasm:
            key = (entry_type, link_type, "To" if direction == "to" else "From")
            return self.wasm[zome].link_packages.get(key, "Entry")
        definition = self.zomes[zome].link_definition(link_type)
        return definition.validation_package if definition is not None else "Entry"

    def validate_entry(
        self,
        zome: str,
        type_name: str,
        action: str,
        entry: Entry | None,
        package: Any,
        lifecycle: str,
        host: Any,
        old_entry: Entry | None = None,
        old_header: dict[str, Any] | None = None,
    ) -> str | None:
        """Run an app entry type's validator (``create``, ``modify`` or ``delete``); ``None`` if valid,
        else the reason.  Runs in the caller's greenlet (validation happens inside a commit or a hold)."""
        if zome in self.wasm:
            data = validation_data(package, lifecycle)
            if action == "create":
                body = {"Create": {"entry": entry.to_json(), "validation_data": data}}  # type: ignore[union-attr]
            elif action == "modify":
                body = {
                    "Modify": {
                        "new_entry": entry.to_json(),  # type: ignore[union-attr]
                        "old_entry": old_entry.to_json(),  # type: ignore[union-attr]
                        "old_entry_header": old_header,
                        "validation_data": data,
                    }
                }
            else:
                body = {
                    "Delete": {
                        "old_entry": old_entry.to_json(),  # type: ignore[union-attr]
                        "old_entry_header": old_header,
                        "validation_data": data,
                    }
                }
            return self.wasm[zome].validate("__hdk_validate_app_entry", {"validation_data": body}, host)
        definition = self.zomes[zome].entry_types.get(type_name)
        if definition is None:
            return None
        try:
            value = definition.decode(entry.app_value_json) if entry is not None else None
            old_value = definition.decode(old_entry.app_value_json) if old_entry is not None else None
        except Exception:
            bad = entry if entry is not None else old_entry
            return f"Could not convert Entry result to requested type : {bad.app_value_json}"  # type: ignore[union-attr]
        if definition.validator is None:
            return None
        validation = EntryValidation(action, value, ValidationData(package, lifecycle), old_value, old_header)
        return _validation_outcome(lambda: definition.validator(validation), host)

    def validate_link(
        self,
        zome: str,
        link_type: str,
        action: str,
        link_data: dict[str, Any],
        package: Any,
        lifecycle: str,
        entry_type: str,
        direction: str,
        host: Any,
    ) -> str | None:
        if zome in self.wasm:
            variant = "LinkAdd" if action == "add" else "LinkRemove"
            args = {
                "entry_type": entry_type,
                "link": link_data["link"],
                "direction": "To" if direction == "to" else "From",
                "validation_data": {
                    variant: {"link": link_data, "validation_data": validation_data(package, lifecycle)}
                },
            }
            return self.wasm[zome].validate("__hdk_validate_link", args, host)
        definition = self.zomes[zome].link_definition(link_type)
        if definition is None or definition.validator is None:
            return None
        validation = LinkValidation(action, link_data, ValidationData(package, lifecycle), entry_type, direction)
        return _validation_outcome(lambda: definition.validator(validation), host)

    def validate_agent(
        self, agent: dict[str, Any], package: Any, lifecycle: str, host_for: Any
    ) -> list[tuple[str, str]]:
        """Run every zome's agent validator; the ``(zome, reason)`` failures."""
        failures = []
        for name in self.zome_names:
            if name in self.wasm:
                args = {
                    "validation_data": {
                        "Create": {"entry": agent, "validation_data": validation_data(package, lifecycle)}
                    }
                }
                reason = self.wasm[name].validate("__hdk_validate_agent_entry", args, host_for(name))
            else:
                zome = self.zomes[name]
                if zome.validate_agent_callback is None:
                    continue
                validation = EntryValidation("create", dict(agent), ValidationData(package, lifecycle))
                reason = _validation_outcome(lambda z=zome, v=validation: z.validate_agent_callback(v), host_for(name))
            if reason is not None:
                failures.append((name, reason))
        return failures

    def has_receive(self, zome: str) -> bool:
        if zome in self.wasm:
            return self.wasm[zome].zome.has("receive")
        definition = self.zomes.get(zome)
        return definition is not None and definition.receive_callback is not None

    async def receive(self, zome: str, sender: str, payload: str, host: Any) -> str:
        """A direct message's reply text (call :meth:`has_receive` first)."""
        if zome in self.wasm:
            try:
                return await self.wasm[zome].receive(sender, payload, host)
            except ZomeExecutionError as exc:
                raise ZomeFunctionFailure(str(exc)) from None
        callback = self.zomes[zome].receive_callback
        assert callback is not None  # has_receive said so
        reply = await runner.run_to_completion(lambda: callback(sender, payload), host)
        return reply if isinstance(reply, str) else _dumps(to_json_value(reply))


def _dumps(value: Any) -> str:
    from ..core import json as cjson

    return cjson.dumps(value)


async def _finish_wasm(zome: WasmZomeRunner, function: str, pending: runner.Pending, name: str) -> Any:
    try:
        output = await pending.future
        return zome.function_result(function, output)
    except ZomeExecutionError as exc:
        log.warning("zome function %s failed: %s", name, exc)
        raise ZomeFunctionFailure(str(exc)) from None


def _validation_outcome(check: Any, host: Any) -> Any:
    def run() -> str | None:
        try:
            check()
        except ValidationError as exc:
            return str(exc)
        except runner.ZomeCallTimeout as exc:
            return f"validation callback failed: {exc}"
        except Exception as exc:  # a bug in the validator rejects, loudly
            log.warning("validation callback raised %s: %s", type(exc).__name__, exc, exc_info=exc)
            return f"validation callback failed: {type(exc).__name__}: {exc}"
        return None

    return runner.start(run, host)
