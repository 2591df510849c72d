"""wasmtime set-up: one engine, compiled modules cached on disk, a fresh sandbox per call.

* One :class:`wasmtime.Engine` with fuel and epoch interruption on.
* Compiling a 1.5 MB holochain-rust zome takes about a second; loading the
  serialized artifact takes about 2 ms.  Artifacts are kept in a cache
  directory keyed by the SHA-256 of the code and the wasmtime version
  (``$HC_WASM_CACHE``, else ``$XDG_CACHE_HOME/holochain-py/wasm``, else
  ``~/.cache/holochain-py/wasm``), written atomically, and recompiled when an
  artifact cannot be loaded.  The directory must be the user's own: loading an
  artifact trusts it as compiled code.
* Every call gets a new Store (the HDK keeps its globals in ``lazy_static``s,
  so an instance must never serve two calls) with the fuel, the wall-clock
  deadline and the memory cap of :class:`WasmLimits`.  An epoch ticker thread
  runs while calls do.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._extern import wrap_extern

__all__ = ["WasmLimits", "set_limits", "limits", "engine", "compile_module", "Sandbox", "cache_dir", "EPOCH_SECONDS"]

log = logging.getLogger(__name__)

EPOCH_SECONDS = 0.005  # the epoch tick: a call on the event loop lets others run at least this often
_ARTIFACT_TAG = "fuel-epoch-v1"


@dataclass(frozen=True)
class WasmLimits:
    """Per-call bounds (``[limits]`` ``wasm_fuel``, ``wasm_time_ms``, ``wasm_memory_mb``).

    The defaults fit every published DNA: their heaviest calls use under 2 M
    fuel and under 2 MiB of memory (22 pages minimum).
    """

    fuel: int = 2_000_000_000
    time_ms: int = 90_000
    memory_mb: int = 256


_limits = WasmLimits()


def set_limits(value: WasmLimits) -> None:
    global _limits
    _limits = value


def limits() -> WasmLimits:
    return _limits


_engine: wasmtime.Engine | None = None
_engine_lock = threading.Lock()


def engine() -> wasmtime.Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            config = wasmtime.Config()
            config.consume_fuel = True
            config.epoch_interruption = True
            _engine = wasmtime.Engine(config)
        return _engine


def cache_dir() -> Path:
    explicit = os.environ.get("HC_WASM_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "holochain-py" / "wasm"


def _artifact_path(digest: str) -> Path:
    version = getattr(wasmtime, "__version__", "unknown")
    return cache_dir() / f"{digest}-wasmtime{version}-{_ARTIFACT_TAG}.cwasm"


_modules: dict[str, wasmtime.Module] = {}
_modules_lock = threading.Lock()


def compile_module(code: bytes | str) -> tuple[wasmtime.Module, str]:
    """The compiled module for ``code`` (binary, or WAT text) and the code's SHA-256.

    Kept in memory per process and on disk across processes.  Raises
    :class:`wasmtime.WasmtimeError` for code that is not valid WebAssembly.
    """
    raw = code.encode("utf-8") if isinstance(code, str) else code
    digest = hashlib.sha256(raw).hexdigest()
    with _modules_lock:
        found = _modules.get(digest)
    if found is not None:
        return found, digest
    eng = engine()
    path = _artifact_path(digest)
    module = None
    if path.is_file():
        try:
            # read, not mmapped: a cache file truncated under a running conductor must not crash it
            module = wasmtime.Module.deserialize(eng, path.read_bytes())
        except (wasmtime.WasmtimeError, OSError) as exc:
            log.warning("compiled-module cache entry %s could not be loaded (%s): compiling again", path.name, exc)
    if module is None:
        started = time.monotonic()
        module = wasmtime.Module(eng, code)
        log.info("compiled a %d-byte zome in %.0f ms", len(raw), (time.monotonic() - started) * 1000)
        _store_artifact(path, module)
    with _modules_lock:
        _modules.setdefault(digest, module)
    return module, digest


def _store_artifact(path: Path, module: wasmtime.Module) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".cwasm")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(module.serialize())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:  # a read-only home must not stop the conductor
        log.warning("could not write the compiled-module cache at %s: %s", path.parent, exc)


# -- the epoch ticker ------------------------------------------------------------------------


class _Ticker:
    """Increments the engine's epoch every EPOCH_SECONDS while any call runs."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._thread: threading.Thread | None = None

    def enter(self) -> None:
        with self._cond:
            self._active += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wasm-epoch", daemon=True)
                self._thread.start()
            self._cond.notify()

    def leave(self) -> None:
        with self._cond:
            self._active -= 1

    def _run(self) -> None:
        eng = engine()
        while True:
            with self._cond:
                while self._active == 0:
                    self._cond.wait()
            time.sleep(EPOCH_SECONDS)
            eng.increment_epoch()


_ticker = _Ticker()


# -- one call's sandbox ------------------------------------------------------------------------


class Sandbox:
    """A fresh Store and instance for one call, bounded by the current limits."""

    __slots__ = ("store", "instance", "memory", "limits", "_entered")

    def __init__(self, pre: wasmtime.InstancePre, time_ms: int | None = None) -> None:
        self.limits = _limits
        store = wasmtime.Store(engine())
        store.set_fuel(self.limits.fuel)
        ms = self.limits.time_ms if time_ms is None else min(time_ms, self.limits.time_ms)
        store.set_epoch_deadline(max(1, int(ms / 1000 / EPOCH_SECONDS)))
        store.set_limits(memory_size=self.limits.memory_mb * 1024 * 1024)
        self.store = store
        self._entered = False
        self.instance = pre.instantiate(store)
        memory = self.export("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise wasmtime.WasmtimeError("the module exports no `memory`")
        self.memory = memory

    def export(self, name: str) -> Any:
        """One export by name (``Instance.exports`` would wrap all ~30 of them)."""
        item = ffi.wasmtime_extern_t()
        raw = name.encode("utf-8")
        found = ffi.wasmtime_instance_export_get(
            self.store._context(),
            ctypes.byref(self.instance._instance),
            ctypes.create_string_buffer(raw),
            len(raw),
            ctypes.byref(item),
        )
        if not found:
            return None
        return wrap_extern(item)

    def __enter__(self) -> Sandbox:
        _ticker.enter()
        self._entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._entered:
            _ticker.leave()
            self._entered = False

    def fuel_used(self) -> int:
        return self.limits.fuel - self.store.get_fuel()
