"""``hc package``: turn a DNA project directory into a ``.dna.json`` file.

As holochain-rust's packager does, the output is a JSON rendering of the
directory tree, walked one level at a time (honouring ``.gitignore``,
``.ignore`` and ``.hcignore``, skipping hidden files):

* the one ``*.json`` file of a level (if any) is the base object of that level;
* a directory holding ``__init__.py`` is Python zome *code*: its value is
  ``{"code": "<base64 of the deterministic bundle>"}``;
* a directory with such a code directory inside is a *zome*: the zome's
  ``entry_types``, ``traits`` and ``fn_declarations`` (what its decorators
  declare) are merged into it;
* a directory holding a ``.hcbuild`` is WebAssembly zome code: its build steps
  run as holochain-rust ran them and the artifact becomes ``{"code": "<base64>"}``;
  a zome directory with such a code directory gets the ``entry_types``,
  ``traits`` and ``fn_declarations`` its ``__hdk_get_json_definition`` export
  returns (see :mod:`.wasm_build`);
* a directory holding one ready ``*.wasm`` file is a WebAssembly zome (its code
  and its definition taken from that file), as is a zome directory whose
  ``code/`` directory holds one;
* any other directory nests as an object.

``properties`` from ``-p`` are the base, and the root JSON file's
``properties`` is merge-patched on top of them (so ``app.json`` wins).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pathspec

from ..core.dna import Dna, json_merge_patch
from ..core.errors import ZomeError
from .python_zome import ZomeCodeError, bundle_directory, is_python_zome_dir, load_zome
from .wasm_build import BUILD_FILE, WasmBuildError, ready_wasm, run_hcbuild, wasm_json_definition

__all__ = ["package_project", "write_package", "PackageError", "IGNORE_FILES"]

IGNORE_FILES = (".gitignore", ".ignore", ".hcignore")


class PackageError(ZomeError):
    """The project cannot be packaged; the message says what to fix."""


def _ignore_spec(
    directory: Path, inherited: list[tuple[Path, pathspec.PathSpec]]
) -> list[tuple[Path, pathspec.PathSpec]]:
    specs = list(inherited)
    for name in IGNORE_FILES:
        path = directory / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            specs.append((directory, pathspec.GitIgnoreSpec.from_lines(lines)))
    return specs


def _ignored(path: Path, specs: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    for base, spec in specs:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if path.is_dir():
            rel += "/"
        if spec.match_file(rel):
            return True
    return False


def _bundle(directory: Path, specs: list[tuple[Path, pathspec.PathSpec]]) -> dict[str, Any]:
    specs = _ignore_spec(directory, specs)
    children = sorted(p for p in directory.iterdir() if not p.name.startswith(".") and not _ignored(p, specs))
    json_files = [p for p in children if p.is_file() and p.suffix == ".json"]
    if len(json_files) > 1:
        raise PackageError(
            f"Multiple files with extension .json were found in {directory}: "
            f"{', '.join(p.name for p in json_files)}; it is ambiguous which one to use"
        )
    base: dict[str, Any] = {}
    if json_files:
        try:
            loaded = json.loads(json_files[0].read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PackageError(f"{json_files[0]} is not valid JSON: {exc}") from None
        if isinstance(loaded, dict):
            base = loaded
    for child in children:
        if not child.is_dir():
            continue
        subdirs = [c for c in sorted(child.iterdir()) if c.is_dir() and not c.name.startswith(".")]
        if is_python_zome_dir(child):
            base[child.name] = {"code": base64.b64encode(bundle_directory(child)).decode("ascii")}
        elif any(is_python_zome_dir(c) for c in subdirs):
            base[child.name] = _zome(child, specs)
        elif (child / BUILD_FILE).is_file():
            base[child.name] = {"code": _b64(_wasm_code(child))}
        elif wasm_dirs := [c for c in subdirs if _is_wasm_code_dir(c)]:
            base[child.name] = _wasm_zome(child, wasm_dirs[0], specs)
        elif _ready_wasm(child) is not None:
            base[child.name] = _wasm_zome(child, None, specs)
        else:
            base[child.name] = _bundle(child, specs)
    return base


def _b64(code: bytes) -> str:
    return base64.b64encode(code).decode("ascii")


def _ready_wasm(directory: Path) -> Path | None:
    try:
        return ready_wasm(directory)
    except WasmBuildError as exc:
        raise PackageError(str(exc)) from None


def _is_wasm_code_dir(directory: Path) -> bool:
    """Built by a .hcbuild, or (named ``code``, as holochain-rust lays zomes out) one ready .wasm."""
    return (directory / BUILD_FILE).is_file() or (directory.name == "code" and _ready_wasm(directory) is not None)


def _wasm_code(code_dir: Path) -> bytes:
    """The code of a WebAssembly code directory: built by its .hcbuild, or its one .wasm."""
    try:
        if (code_dir / BUILD_FILE).is_file():
            return run_hcbuild(code_dir)
    except WasmBuildError as exc:
        raise PackageError(str(exc)) from None
    wasm = _ready_wasm(code_dir)
    assert wasm is not None
    return wasm.read_bytes()


def _wasm_zome(directory: Path, code_dir: Path | None, specs: list[tuple[Path, pathspec.PathSpec]]) -> dict[str, Any]:
    """A WebAssembly zome: its JSON, its code (built once) and the wasm's own definition."""
    code = _wasm_code(code_dir if code_dir is not None else directory)
    value = _bundle(directory, specs) if code_dir is None else _bundle_except(directory, code_dir, specs)
    code_key = code_dir.name if code_dir is not None else "code"
    value[code_key] = {"code": _b64(code)}
    try:
        definition = wasm_json_definition(code, directory.name)
    except WasmBuildError as exc:
        raise PackageError(str(exc)) from None
    value.update(definition)
    return value


def _bundle_except(directory: Path, skip: Path, specs: list[tuple[Path, pathspec.PathSpec]]) -> dict[str, Any]:
    """``_bundle(directory)`` without descending into ``skip`` (already built)."""
    return _bundle(directory, specs + [(directory, pathspec.GitIgnoreSpec.from_lines([f"/{skip.name}/"]))])


def _zome(directory: Path, specs: list[tuple[Path, pathspec.PathSpec]]) -> dict[str, Any]:
    value = _bundle(directory, specs)
    code_dirs = [c for c in sorted(directory.iterdir()) if c.is_dir() and is_python_zome_dir(c)]
    code = base64.b64decode(value[code_dirs[0].name]["code"])
    try:
        zome = load_zome(code, directory.name)
    except ZomeCodeError as exc:
        raise PackageError(str(exc)) from exc
    value.update(zome.definition())
    if code_dirs[0].name != "code":
        value["code"] = value.pop(code_dirs[0].name)
    return value


def package_project(project: Path, properties: Any = None) -> tuple[dict[str, Any], Dna]:
    """Build the DNA tree of ``project``; returns it and the parsed :class:`Dna`."""
    project = project.resolve()
    if not project.is_dir():
        raise PackageError(f"{project} is not a directory")
    tree = _bundle(project, [])
    if properties is not None:
        tree["properties"] = json_merge_patch(properties, tree["properties"]) if "properties" in tree else properties
    try:
        dna = Dna.from_json(tree)
    except ValueError as exc:
        raise PackageError(f"the packaged DNA is not valid: {exc}") from exc
    return tree, dna


def write_package(tree: dict[str, Any], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(json.dumps(tree, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(output)
