"""A WebAssembly zome: loading it, and running one function or callback in a sandbox.

Calls run on worker threads, never on the event loop: wasmtime releases the
GIL while WebAssembly computes, so other connections are answered meanwhile.
A host function that touches the instance (commit, get, links, call, …) is
handed to the event loop and runs there in a zome-call greenlet, as the
Python HDK's calls do; the worker waits for its answer.  Host functions that
read only immutable state (debug, globals, entry_address, meta, sleep,
signatures) run on the worker.  bench/wasm_calls.py measured the choice.

Every call has a fresh instance (the HDK's ``lazy_static`` globals must not
outlive a call) with its own fuel, deadline and memory cap
(:mod:`.engine`).  What the zome does wrong — a trap, running out of fuel or
time, a pointer or length outside its memory, output that is not UTF-8 JSON —
ends that call with a :class:`~holochain.core.errors.ZomeExecutionError`
naming the zome and function; nothing of the instance is kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import greenlet
import wasmtime
from wasmtime import _ffi as ffi

from ...core import json as cjson
from ...core.errors import RibosomeErrorCode, ZomeExecutionError
from .. import runner
from . import abi, engine, imports

__all__ = ["WasmZome", "WasmFunction", "WasmCall", "HDK_VERSION", "SliceExpired", "may_run_on_loop"]

log = logging.getLogger(__name__)
zome_log = logging.getLogger("holochain.zome")

HDK_VERSION = "0.0.52-alpha2"
_MAX_OUTPUT = 64 * 1024 * 1024
_I64 = wasmtime.ValType.i64()
_HOST_TYPE = wasmtime.FuncType([_I64], [_I64])
_ABORT_TYPE = wasmtime.FuncType([_I64, _I64, _I64, _I64], [])
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="wasm")
_current = threading.local()

# WebAssembly suspended on the event-loop thread must be resumed before any other runs
# there (wasmtime keeps the running activations of a thread in a stack): the greenlet
# holding such frames owns the loop; calls from other greenlets meanwhile use workers.
ON_LOOP = os.environ.get("HC_WASM_ON_LOOP", "1") != "0"
_loop_owner: Any = None
_loop_depth = 0


def may_run_on_loop() -> bool:
    """Whether a call may run on the event-loop thread now (from the current greenlet)."""
    if not ON_LOOP:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a worker thread
        return False
    return _loop_owner is None or _loop_owner is greenlet.getcurrent()


class SliceExpired(Exception):
    """A run on the event-loop thread took longer than its slice (it is run again on a worker)."""


class WasmFunction:
    """A declared zome function the module exports (what ``Ribosome.function`` hands out)."""

    __slots__ = ("zome", "name")

    def __init__(self, zome: WasmZome, name: str) -> None:
        self.zome = zome
        self.name = name


class WasmCall:
    """One run of one export: the state its host functions share."""

    def __init__(
        self,
        zome: WasmZome,
        fn_name: str,
        host: Any,
        globals_json: str | Callable[[], str],
        loop: asyncio.AbstractEventLoop | None,
        slice_ms: int | None = None,
        on_loop: bool = False,
    ) -> None:
        self.zome = zome
        self.fn_name = fn_name
        self.host = host
        self._globals = globals_json
        self.loop = loop
        self.deadline = time.monotonic() + engine.limits().time_ms / 1000
        self.stack = abi.HostStack(0)
        self.sandbox: engine.Sandbox | None = None
        self.panic: list[str] = []
        self.fatal: ZomeExecutionError | None = None
        self.slice_ms = slice_ms
        self.on_loop = on_loop
        self.stopped: BaseException | None = None
        self._epoch_callback: Any = None

    @property
    def globals_json(self) -> str:
        """``ZomeApiGlobals`` JSON, computed on first use (it may sign the call's provenance)."""
        if callable(self._globals):
            self._globals = self._globals()
        return self._globals

    @property
    def label(self) -> str:
        return f"zome '{self.zome.name}' function '{self.fn_name}'"

    def failure(self, what: str) -> ZomeExecutionError:
        text = f"{self.label}: {what}"
        if self.panic:
            text += f" (the zome said: {self.panic[-1]})"
        return ZomeExecutionError(self.zome.name, self.fn_name, text)

    # -- helpers for host functions ------------------------------------------------------

    def debug(self, message: Any) -> None:
        text = message if isinstance(message, str) else cjson.dumps(message)
        if "panicked at" in text or text.startswith("panic"):
            self.panic.append(text)
        instance_id = getattr(getattr(self.host, "core", None), "instance_id", "")
        zome_log.debug("dna: '%s'", text, extra={"instance_id": instance_id})

    def sleep(self, seconds: float) -> None:
        if self.on_loop:  # never block the event loop: suspend this call instead
            runner.wait_for(asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic()))))
        else:
            imports.sleep_bounded(seconds, self.deadline)

    # -- memory --------------------------------------------------------------------------

    def read(self, store: Any, value: int, what: str) -> str | None:
        """The text an encoded value points at (None for Success); traps on a bad pointer."""
        decoded = abi.decode(value)
        if decoded.kind == "success":
            return None
        if decoded.kind == "failure":
            code = decoded.code.name if decoded.code is not None else "?"
            raise self._fatal(f"{what} is the error code {code} instead of an allocation")
        assert self.sandbox is not None
        size = self.sandbox.memory.data_len(store)
        if decoded.offset + decoded.length > size:
            raise self._fatal(
                f"{what} points outside the zome's memory ({decoded.length} bytes at offset {decoded.offset}, "
                f"memory is {size} bytes)"
            )
        if decoded.length > _MAX_OUTPUT:
            raise self._fatal(f"{what} is {decoded.length} bytes, over the {_MAX_OUTPUT}-byte limit")
        data = ctypes.string_at(_base(self.sandbox.memory, store) + decoded.offset, decoded.length)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._fatal(f"{what} is not valid UTF-8: {exc}") from None

    def write(self, store: Any, text: str, nul: bool) -> int:
        data = text.encode("utf-8") + (b"\0" if nul else b"")
        assert self.sandbox is not None
        self.stack.limit = self.sandbox.memory.data_len(store)
        offset = self.stack.place(len(data))
        ctypes.memmove(_base(self.sandbox.memory, store) + offset, data, len(data))
        return abi.encode_allocation(offset, len(data))

    def _fatal(self, what: str) -> ZomeExecutionError:
        self.fatal = self.failure(what)
        return self.fatal

    # -- host functions --------------------------------------------------------------------

    def host_call(self, fn: imports.HostFunction, caller: Any, value: int) -> int:
        text = self.read(caller, value, f"the argument to {fn.name}")
        if fn.name == "hc_debug":
            arg: Any = "null" if text is None else text
        else:
            try:
                arg = None if text is None else cjson.loads(text)
            except cjson.JSONDecodeError:
                return abi.encode_code(RibosomeErrorCode.ArgumentDeserializationFailed)
        if self.host is None and fn.name not in ("hc_debug", "hc_init_globals"):
            return abi.encode_code(RibosomeErrorCode.Unspecified)  # a load-time callback: no instance to ask
        if fn.local or self.loop is None:
            result = imports.outcome(lambda: fn.run(self, arg))
        else:
            result = self._on_loop(lambda: imports.outcome(lambda: fn.run(self, arg)))
        if result is imports.SUCCESS:
            return 0
        if isinstance(result, RibosomeErrorCode):
            return abi.encode_code(result)
        reply = imports.failure_text(result) if imports.is_failure(result) else imports.envelope_ok(result)
        try:
            return self.write(caller, reply, nul=True)
        except abi.AllocationError as exc:
            log.warning("%s: the reply of %s does not fit: %s", self.label, fn.name, exc)
            return abi.encode_code(RibosomeErrorCode.Unspecified)

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the event loop in a zome-call greenlet; wait for its result here.

        If the call's deadline passes first, what ``fn`` is still waiting for is cancelled,
        so nothing it would have done happens after the caller got its error."""
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        host = self.host
        waiting: list[asyncio.Future[Any]] = []

        def start() -> None:
            if done.cancelled():
                return
            try:
                result = runner.start(fn, host)
            except BaseException as exc:
                done.set_exception(exc)
                return
            if isinstance(result, runner.Pending):
                waiting.append(result.future)
                result.future.add_done_callback(lambda f: _transfer(f, done))
            else:
                done.set_result(result)

        def cancel() -> None:
            for future in waiting:
                future.cancel()

        assert self.loop is not None
        self.loop.call_soon_threadsafe(start)
        remaining = self.deadline - time.monotonic()
        try:
            return done.result(timeout=max(remaining, 0.001))
        except concurrent.futures.TimeoutError:
            done.cancel()
            self.loop.call_soon_threadsafe(cancel)
            raise self._fatal(f"ran past its {engine.limits().time_ms} ms deadline waiting for the host") from None

    # -- running ----------------------------------------------------------------------------

    def run(self, export: str, input_text: str | None) -> str | RibosomeErrorCode | None:
        """Call ``export`` in a fresh sandbox: its output text, None (Success) or an error code."""
        try:
            sandbox = engine.Sandbox(self.zome.pre, self.slice_ms)
        except wasmtime.WasmtimeError as exc:
            raise self.failure(f"could not be instantiated: {_first_line(exc)}") from None
        if self.on_loop:
            self._slice(sandbox)
        previous = getattr(_current, "call", None)
        _current.call = self
        self.sandbox = sandbox
        try:
            with sandbox:
                store = sandbox.store
                arg = 0
                if input_text:
                    try:
                        arg = self.write(store, input_text, nul=False)
                    except abi.AllocationError as exc:
                        raise self.failure(f"its input does not fit in its memory: {exc}") from None
                handler = sandbox.export("__install_panic_handler") if self.zome.panic_handler else None
                if isinstance(handler, wasmtime.Func):
                    try:
                        handler(store)
                    except wasmtime.Trap:
                        pass
                fn = sandbox.export(export)
                if not isinstance(fn, wasmtime.Func):
                    raise self.failure("is not exported by the module")
                try:
                    value = fn(store, arg)
                except wasmtime.Trap as trap:
                    raise self._trap(trap) from None
                except ZomeExecutionError:
                    raise
                except wasmtime.WasmtimeError as exc:  # e.g. the epoch callback's error
                    if self.stopped is not None:
                        raise self.stopped from None
                    if self.fatal is not None:
                        raise self.fatal from None
                    raise self.failure(f"failed: {_first_line(exc)}") from None
                if not isinstance(value, int):
                    raise self.failure("returned no i64 value")
                decoded = abi.decode(value)
                if decoded.kind == "success":
                    return None
                if decoded.kind == "failure":
                    return decoded.code
                return self.read(store, value, "its result")
        finally:
            _current.call = previous
            self.sandbox = None

    def _slice(self, sandbox: engine.Sandbox) -> None:
        """On the event loop: at every epoch tick, let the loop run (and check the deadline)."""
        sandbox.store.set_epoch_deadline(1)
        self._epoch_callback = _EPOCH_CALLBACK(self._on_epoch)
        ffi.wasmtime_store_epoch_deadline_callback(sandbox.store.ptr(), self._epoch_callback, None, _NO_FINALIZER)

    def _on_epoch(self, context: Any, data: Any, delta: Any, kind: Any) -> int:
        delta[0] = 1
        kind[0] = 0  # continue
        if time.monotonic() > self.deadline:
            self.fatal = self.failure(f"ran past its {engine.limits().time_ms} ms deadline")
            return _error("deadline")
        try:
            runner.wait_for(asyncio.sleep(0))  # a greenlet switch: the loop serves others meanwhile
        except BaseException as exc:  # cancelled, or stopped by the conductor
            self.stopped = exc
            return _error("stopped")
        return 0

    def _trap(self, trap: wasmtime.Trap) -> BaseException:
        if self.stopped is not None:
            return self.stopped
        if self.fatal is not None:
            return self.fatal
        code = trap.trap_code
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            return self.failure(f"ran out of fuel (the limit is {engine.limits().fuel} per call)")
        if code == wasmtime.TrapCode.INTERRUPT and self.slice_ms is not None:
            raise SliceExpired()
        if code == wasmtime.TrapCode.INTERRUPT:
            return self.failure(f"ran past its {engine.limits().time_ms} ms deadline")
        return self.failure(f"trapped: {_trap_text(trap)}")


_EPOCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_size_t,
    ctypes.POINTER(ffi.wasmtime_context_t),
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint64),
    ctypes.POINTER(ctypes.c_uint8),
)
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))


def _error(text: str) -> int:
    return ctypes.cast(ffi.wasmtime_error_new(text.encode()), ctypes.c_void_p).value or 0


def _base(memory: wasmtime.Memory, store: Any) -> int:
    """The address of the memory's first byte (it moves when the memory grows: ask each time).

    wasmtime-py's ``Memory.read``/``write`` build a ctypes array type per access (~60 µs)."""
    return ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value or 0


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _trap_text(trap: wasmtime.Trap) -> str:
    """The cause of a trap (wasmtime's message starts with a backtrace)."""
    lines = [line.strip() for line in str(trap.message or trap).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("wasm trap:"):
            return line[len("wasm trap:") :].strip()
    return lines[-1] if lines else "trap"


def _transfer(source: asyncio.Future[Any], target: concurrent.futures.Future[Any]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.set_exception(concurrent.futures.CancelledError())
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


def _host_trampoline(fn: imports.HostFunction) -> Callable[[Any, int], int]:
    def trampoline(caller: Any, value: int) -> int:
        call: WasmCall = _current.call
        return call.host_call(fn, caller, value)

    return trampoline


class WasmZome:
    """A compiled zome with its imports linked: each call instantiates it afresh."""

    def __init__(self, name: str, code: bytes | str, declared: list[str] | None = None) -> None:
        self.name = name
        try:
            module, self.digest = engine.compile_module(code)
        except wasmtime.WasmtimeError as exc:
            raise ZomeExecutionError(name, "", f"zome '{name}' is not valid WebAssembly: {_first_line(exc)}") from None
        linker = wasmtime.Linker(engine.engine())
        for item in module.imports:
            item_name = item.name or ""
            where = f"{item.module}.{item_name}"
            if item.module == "env" and item_name == "abort" and _same_type(item.type, _ABORT_TYPE):
                linker.define_func("env", "abort", _ABORT_TYPE, lambda *a: None)
                continue
            fn = imports.HOST_FUNCTIONS.get(item_name) if item.module == "env" else None
            if fn is None:
                why = " (holochain-rust never provided it either)" if item_name in imports.NOT_PROVIDED else ""
                raise ZomeExecutionError(
                    name, "", f"zome '{name}' imports `{where}`, which this conductor does not provide{why}"
                )
            if not _same_type(item.type, _HOST_TYPE):
                raise ZomeExecutionError(name, "", f"zome '{name}' imports `{where}` with a type other than (i64)->i64")
            linker.define_func("env", item_name, _HOST_TYPE, _host_trampoline(fn), access_caller=True)
        self.exports = {item.name for item in module.exports}
        self.panic_handler = "__install_panic_handler" in self.exports
        if "memory" not in self.exports:
            raise ZomeExecutionError(name, "", f"zome '{name}': its WebAssembly module exports no `memory`")
        try:
            self.pre = linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as exc:
            raise ZomeExecutionError(name, "", f"zome '{name}' cannot be linked: {_first_line(exc)}") from None
        self.functions = {fn: WasmFunction(self, fn) for fn in (declared or []) if fn in self.exports}
        self.init_export = "init" if "init" in self.exports else "genesis" if "genesis" in self.exports else None

    def has(self, export: str) -> bool:
        return export in self.exports

    def run_here(
        self, export: str, input_text: str | None, host: Any, globals_json: Any, slice_ms: int | None = None
    ) -> Any:
        """Run on this thread, with every host function run here too (no event loop involved).

        With ``slice_ms``, a run past that time raises :class:`SliceExpired`."""
        return WasmCall(self, export, host, globals_json, None, slice_ms).run(export, input_text)

    def run_on_loop(self, export: str, input_text: str | None, host: Any, globals_json: Any) -> Any:
        """Run on the event-loop thread, in the current zome-call greenlet (see :func:`may_run_on_loop`).

        Host functions run right here; the call yields to the loop at every epoch
        tick and whenever a host call waits, so other connections are served."""
        global _loop_owner, _loop_depth
        _loop_owner = greenlet.getcurrent()
        _loop_depth += 1
        try:
            return WasmCall(self, export, host, globals_json, None, on_loop=True).run(export, input_text)
        finally:
            _loop_depth -= 1
            if _loop_depth == 0:
                _loop_owner = None

    def start(self, export: str, input_text: str | None, host: Any, globals_json: Any) -> asyncio.Future[Any]:
        """Run on a worker thread; host functions that need the instance run on this (the loop's) thread."""
        loop = asyncio.get_running_loop()
        call = WasmCall(self, export, host, globals_json, loop)
        return loop.run_in_executor(_pool, call.run, export, input_text)


def _same_type(ty: Any, expected: wasmtime.FuncType) -> bool:
    return (
        isinstance(ty, wasmtime.FuncType)
        and [str(p) for p in ty.params] == [str(p) for p in expected.params]
        and [str(r) for r in ty.results] == [str(r) for r in expected.results]
    )
