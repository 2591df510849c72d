"""Python zome code: how it is bundled into a DNA and loaded back.

A Python zome is a package directory (``zomes/<name>/code/`` with an
``__init__.py`` that creates ``zome = hdk.Zome(...)``).  ``hc package``
stores it in the DNA's ``code.code`` as base64 of a *deterministic* ZIP of
its files (sorted names, fixed timestamps, no compression), so the same
sources always give the same DNA hash on every machine.  A WebAssembly zome
starts with ``\\0asm`` instead; :func:`code_kind` tells them apart.

Loading imports the package from memory under a name derived from the
code's hash, so two DNAs with the same zome code share one module, and
different code never collides.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import sys
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from ..core.errors import ZomeError
from ..core.progress import Progress
from ..hdk.zome import Zome

__all__ = [
    "ZomeCodeError",
    "bundle_directory",
    "load_zome",
    "code_kind",
    "is_python_zome_dir",
]

_ZIP_MAGIC = b"PK\x03\x04"
_WASM_MAGIC = b"\x00asm"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
_PACKAGE_ROOT = "_hc_zomes"


class ZomeCodeError(ZomeError):
    """Zome code that cannot be bundled or loaded; the message says why."""


def code_kind(code: bytes) -> str:
    if code.startswith(_ZIP_MAGIC):
        return "python"
    if code.startswith(_WASM_MAGIC):
        return "wasm"
    return "unknown"


def is_python_zome_dir(path: Path) -> bool:
    return (path / "__init__.py").is_file()


def bundle_directory(path: Path) -> bytes:
    """A deterministic ZIP of a zome package directory (hidden files skipped)."""
    if not is_python_zome_dir(path):
        raise ZomeCodeError(f"{path} is not a Python zome: it has no __init__.py")
    files: list[tuple[str, Path]] = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in names:
            if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                continue
            full = Path(root) / name
            files.append((full.relative_to(path).as_posix(), full))
    buffer = io.BytesIO()
    size = sum(full.stat().st_size for _, full in files)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive,
        Progress(
            f"Packaging zome '{path.parent.name if path.name == 'code' else path.name}'", size, unit="bytes"
        ) as progress,
    ):
        for arcname, full in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            data = full.read_bytes()
            archive.writestr(info, data)
            progress.advance(len(data))
    return buffer.getvalue()


class _MemoryFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the modules of loaded zome bundles from memory."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[bytes, bool, str]] = {}  # module -> (source, is_pkg, origin)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        found = self.sources.get(fullname)
        if found is None:
            return None
        _, is_pkg, origin = found
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=origin, is_package=is_pkg)
        if is_pkg:
            spec.submodule_search_locations = []
        spec.has_location = False
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        source, _, origin = self.sources[module.__name__]
        code = compile(source, origin, "exec", dont_inherit=True)
        exec(code, module.__dict__)


_finder = _MemoryFinder()
_lock = threading.Lock()
_loaded: dict[str, Zome] = {}


def load_zome(code: bytes, zome_name: str) -> Zome:
    """Import a bundled Python zome and return its :class:`Zome` definition."""
    kind = code_kind(code)
    if kind == "wasm":
        raise ZomeCodeError(f"zome '{zome_name}' is WebAssembly; this conductor runs Python zomes only for now")
    if kind != "python":
        raise ZomeCodeError(f"zome '{zome_name}' code is neither a Python zome bundle nor WebAssembly")
    digest = hashlib.sha256(code).hexdigest()[:24]
    package = f"{_PACKAGE_ROOT}.z{digest}"
    with _lock:
        if package in _loaded:
            return _loaded[package]
        try:
            archive = zipfile.ZipFile(io.BytesIO(code))
            members = {n: archive.read(n) for n in archive.namelist() if n.endswith(".py")}
        except zipfile.BadZipFile as exc:
            raise ZomeCodeError(f"zome '{zome_name}' code is a damaged bundle: {exc}") from None
        if "__init__.py" not in members:
            raise ZomeCodeError(f"zome '{zome_name}' bundle has no __init__.py")
        if _PACKAGE_ROOT not in sys.modules:
            root = ModuleType(_PACKAGE_ROOT)
            root.__path__ = []
            sys.modules[_PACKAGE_ROOT] = root
        if _finder not in sys.meta_path:
            sys.meta_path.append(_finder)
        for name, source in members.items():
            parts = name[: -len(".py")].split("/")
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            module_name = ".".join([package, *parts])
            _finder.sources[module_name] = (source, is_pkg, f"<zome {zome_name}>/{name}")
        try:
            module = importlib.import_module(package)
        except Exception as exc:
            raise ZomeCodeError(f"zome '{zome_name}' failed to import: {type(exc).__name__}: {exc}") from exc
        zome = getattr(module, "zome", None)
        if not isinstance(zome, Zome):
            raise ZomeCodeError(f"zome '{zome_name}' must define `zome = hdk.Zome(...)` in its __init__.py")
        _loaded[package] = zome
        return zome
