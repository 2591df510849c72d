"""``hc package`` for WebAssembly zomes: run a ``.hcbuild``, read a zome's own definition.

holochain-rust's packager (cli ``package.rs`` and ``config_files/build.rs``) builds a zome
whose code directory holds a ``.hcbuild`` file::

    {"steps": [{"command": "cargo", "arguments": ["build", "--release", ...]}],
     "artifact": "target/wasm32-unknown-unknown/release/my_zome.wasm"}

Each step runs as ``bash -c "<command> <arguments joined by spaces>"`` in the code directory
(so ``$VARS`` and ``VAR=x cmd`` work, as they did there); the artifact path is expanded by
``bash -c "echo <artifact>"`` and taken relative to the code directory.  The packager then
calls the zome's ``__hdk_get_json_definition`` export with ``{}`` and copies the
``entry_types``, ``traits`` and ``fn_declarations`` it returns into the DNA.  That call is
made here with wasmtime, with every host import trapping except ``hc_debug`` (whose text is
kept, so a panic's message can be reported).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["BUILD_FILE", "WasmBuildError", "run_hcbuild", "wasm_json_definition", "ready_wasm"]

BUILD_FILE = ".hcbuild"
_WASM_MAGIC = b"\x00asm"


class WasmBuildError(Exception):
    """A ``.hcbuild`` that cannot be run, or a wasm whose definition cannot be read."""


def _load_build(path: Path) -> tuple[list[tuple[str, list[str]]], str]:
    try:
        build = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WasmBuildError(f"{path} is not a readable JSON build file: {exc}") from None
    if not isinstance(build, dict) or not isinstance(build.get("steps"), list):
        raise WasmBuildError(f'{path} needs "steps": [{{"command": …, "arguments": […]}}, …] and "artifact"')
    steps = []
    for i, step in enumerate(build["steps"]):
        if (
            not isinstance(step, dict)
            or not isinstance(step.get("command"), str)
            or not isinstance(step.get("arguments"), list)
            or not all(isinstance(a, str) for a in step["arguments"])
        ):
            raise WasmBuildError(f'{path}: step {i} needs a "command" string and an "arguments" list of strings')
        steps.append((step["command"], step["arguments"]))
    artifact = build.get("artifact")
    if not isinstance(artifact, str) or not artifact:
        raise WasmBuildError(f'{path} needs an "artifact": the path of the .wasm the steps produce')
    return steps, artifact


def run_hcbuild(code_dir: Path) -> bytes:
    """Run ``code_dir/.hcbuild``'s steps and return the artifact's bytes."""
    steps, artifact = _load_build(code_dir / BUILD_FILE)
    for command, arguments in steps:
        line = " ".join([command, *arguments])
        print(f"> {line}", flush=True)
        status = subprocess.run(["bash", "-c", line], cwd=code_dir).returncode
        if status != 0:
            raise WasmBuildError(f"build step `{line}` in {code_dir} failed with exit status {status}")
    expanded = subprocess.run(
        ["bash", "-c", f"echo {artifact}"], cwd=code_dir, capture_output=True, text=True
    ).stdout.rstrip("\n")
    path = Path(expanded)
    if not path.is_absolute():
        path = code_dir / path
    if not path.is_file():
        raise WasmBuildError(
            f"artifact path {path} (from {code_dir / BUILD_FILE}) either doesn't point to a file or doesn't exist"
        )
    return path.read_bytes()


def ready_wasm(directory: Path) -> Path | None:
    """The one ``*.wasm`` file in ``directory`` (a zome shipped ready-built), if there is one."""
    found = sorted(p for p in directory.glob("*.wasm") if p.is_file())
    if len(found) > 1:
        raise WasmBuildError(
            f"{directory} holds several .wasm files ({', '.join(p.name for p in found)}); keep one per zome"
        )
    return found[0] if found else None


def wasm_json_definition(code: bytes, zome: str) -> dict[str, Any]:
    """What the zome's ``__hdk_get_json_definition`` export returns for ``{}``."""
    import wasmtime

    if not code.startswith(_WASM_MAGIC):
        raise WasmBuildError(f"zome {zome!r}: the built artifact is not WebAssembly (it does not start with \\0asm)")
    engine = wasmtime.Engine()
    try:
        module = wasmtime.Module(engine, code)
    except wasmtime.WasmtimeError as exc:
        raise WasmBuildError(f"zome {zome!r}: the WebAssembly does not compile: {exc}") from None
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    debug_lines: list[str] = []

    def hc_debug(caller: wasmtime.Caller, encoded: int) -> int:
        memory = caller["memory"]
        assert isinstance(memory, wasmtime.Memory)
        offset, length = (encoded >> 32) & 0xFFFFFFFF, encoded & 0xFFFFFFFF
        debug_lines.append(bytes(memory.read(caller, offset, offset + length)).decode("utf-8", "replace"))
        return 0

    i64 = wasmtime.ValType.i64()
    if any(imp.module == "env" and imp.name == "hc_debug" for imp in module.imports):
        linker.define_func("env", "hc_debug", wasmtime.FuncType([i64], [i64]), hc_debug, access_caller=True)
    linker.define_unknown_imports_as_traps(module)
    try:
        instance = linker.instantiate(store, module)
    except wasmtime.WasmtimeError as exc:
        raise WasmBuildError(f"zome {zome!r}: the WebAssembly cannot be instantiated: {exc}") from None
    exports = instance.exports(store)
    memory, define = exports.get("memory"), exports.get("__hdk_get_json_definition")
    if not isinstance(memory, wasmtime.Memory) or not isinstance(define, wasmtime.Func):
        raise WasmBuildError(
            f"zome {zome!r} does not export `memory` and `__hdk_get_json_definition`: is it built with an HDK?"
        )
    panic_handler = exports.get("__install_panic_handler")
    memory.write(store, b"{}", 0)
    try:
        if isinstance(panic_handler, wasmtime.Func):
            panic_handler(store)
        encoded = define(store, 2) & 0xFFFFFFFFFFFFFFFF
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        said = f" ({' / '.join(debug_lines)})" if debug_lines else ""
        cause = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise WasmBuildError(
            f"zome {zome!r}: __hdk_get_json_definition trapped{said}: {cause[-1] if cause else exc}"
        ) from None
    offset, length = encoded >> 32, encoded & 0xFFFFFFFF
    if length == 0:
        raise WasmBuildError(
            f"zome {zome!r}: __hdk_get_json_definition returned failure code {offset}, not a definition"
        )
    try:
        definition = json.loads(bytes(memory.read(store, offset, offset + length)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, IndexError, ValueError) as exc:
        raise WasmBuildError(f"zome {zome!r}: __hdk_get_json_definition did not return JSON: {exc}") from None
    if not isinstance(definition, dict):
        raise WasmBuildError(
            f"zome {zome!r}: __hdk_get_json_definition returned {type(definition).__name__}, not an object"
        )
    return definition
