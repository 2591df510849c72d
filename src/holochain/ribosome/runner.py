"""Running synchronous zome code on the event loop, suspending only when it must.

Zome functions are plain functions, as in the Rust HDK.  They run on the
event-loop thread inside a worker greenlet.  When an HDK call needs to wait
(the network, a timer, another instance), :func:`wait_for` switches back to
the loop with the awaitable; the loop awaits it and switches the result back
in.  A call that never waits, the common case, completes synchronously with
no task created: :func:`start` then returns its result directly.

Worker greenlets are pooled: creating a greenlet costs ~8 µs, switching into
a parked one ~0.5 µs.

Time limits (:func:`set_limits`): a call may hold the event loop without
waiting for at most ``max_blocking`` seconds; past that a SIGALRM, armed
while zome code runs, raises :class:`ZomeCallTimeout` inside the zome code,
so a zome that loops forever is stopped and everyone else keeps being
served.  The alarm only raises while the interrupted frame is not the
conductor's own code (instance, storage, network …), so no half-done state
change is ever interrupted; there it re-arms and tries again a moment later.
A call that waits (network, timers) may take ``max_call`` seconds in all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import greenlet

from ..hdk.host import ZomeHost

__all__ = ["start", "wait_for", "Pending", "run_to_completion", "ZomeCallTimeout", "set_limits"]

log = logging.getLogger(__name__)


class ZomeCallTimeout(BaseException):
    """A zome call ran past its time limit.

    A BaseException, so zome code's ``except Exception`` cannot swallow it.
    """


# -- time limits -------------------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_HDK_DIR = os.path.join(_PACKAGE_DIR, "hdk") + os.sep
_max_blocking: float | None = None
_max_call: float | None = None
_preempt = False
_running: _Worker | None = None  # the worker switched in right now (main thread only)
_running_since = 0.0


def set_limits(max_blocking: float | None, max_call: float | None) -> None:
    """Bound zome calls: time holding the event loop, and time in all (None: unbounded).

    Preemption of a blocking call needs SIGALRM, so it works when the event
    loop runs in the main thread (as ``hc run`` and ``holochain`` run it);
    elsewhere only waiting calls are bounded.
    """
    global _max_blocking, _max_call, _preempt
    _max_blocking, _max_call = max_blocking, max_call
    _preempt = False
    if max_blocking is not None and threading.current_thread() is threading.main_thread():
        try:
            signal.signal(signal.SIGALRM, _on_alarm)
            _preempt = True
        except (ValueError, OSError, AttributeError):  # pragma: no cover - no SIGALRM here
            log.warning("zome calls holding the event loop cannot be preempted on this platform")


def _conductor_code(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR) and not filename.startswith(_HDK_DIR)


def _on_alarm(signum: int, frame: Any) -> None:
    worker = _running
    if worker is None or greenlet.getcurrent() is not worker or _max_blocking is None:
        return
    if frame is not None and _conductor_code(frame.f_code.co_filename):
        signal.setitimer(signal.ITIMER_REAL, 0.01)  # in conductor code: retry a moment later
        return
    held = time.monotonic() - _running_since
    signal.setitimer(signal.ITIMER_REAL, 0.05)  # should the zome swallow it: again, shortly
    raise ZomeCallTimeout(
        f"zome call stopped after holding the conductor for {held:.1f}s without waiting "
        f"(the limit is {_max_blocking:g}s)"
    )


def _switch_in(worker: _Worker, value: Any, throw: bool = False) -> Any:
    """Run the worker until it finishes or waits, with the blocking alarm armed."""
    global _running, _running_since
    outer, outer_since = _running, _running_since
    _running, _running_since = worker, time.monotonic()
    if _preempt:
        signal.setitimer(signal.ITIMER_REAL, _max_blocking)  # type: ignore[arg-type]
    try:
        return worker.throw(value) if throw else worker.switch(value)
    finally:
        if _preempt:
            signal.setitimer(signal.ITIMER_REAL, 0)
        _running, _running_since = outer, outer_since


_MAX_IDLE = 64


class _Worker(greenlet.greenlet):
    """A reusable greenlet; ``hc_host`` is the running call's host (or None)."""

    __slots__ = ("hc_host", "deadline")

    def __init__(self) -> None:
        super().__init__(self._loop)
        self.hc_host: ZomeHost | None = None
        self.deadline: float | None = None

    def _loop(self, fn: Callable[[], Any]) -> None:
        while True:
            try:
                outcome = ("done", fn())
            except BaseException as exc:  # handed to the caller, never swallowed
                outcome = ("error", exc)
            self.hc_host = None
            fn = self.parent.switch(outcome)


_idle: list[_Worker] = []


class _Await:
    """What a worker hands the loop when it needs an awaitable awaited."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


class Pending:
    """A call that suspended; await :attr:`future` for its result."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future


def _get_worker() -> _Worker:
    worker = _idle.pop() if _idle else _Worker()
    worker.parent = greenlet.getcurrent()
    return worker


def _release(worker: _Worker) -> None:
    if len(_idle) < _MAX_IDLE:
        _idle.append(worker)


def _settle(worker: _Worker, outcome: Any) -> Any:
    kind, value = outcome
    _release(worker)
    if kind == "error":
        raise value
    return value


def start(fn: Callable[[], Any], host: ZomeHost | None) -> Any:
    """Run ``fn`` in a worker greenlet with ``host`` as the HDK's host.

    Returns the result if ``fn`` finished without waiting, a :class:`Pending`
    if it is suspended (the rest runs as a task), or raises what ``fn`` raised.
    Must be called from the event-loop thread.
    """
    current = greenlet.getcurrent()
    if isinstance(current, _Worker):
        # A nested call (zome-to-zome within the instance): run it inline,
        # with the nested host, in the caller's greenlet.
        saved = current.hc_host
        current.hc_host = host
        try:
            return fn()
        finally:
            current.hc_host = saved
    worker = _get_worker()
    worker.hc_host = host
    worker.deadline = None if _max_call is None else time.monotonic() + _max_call
    outcome = _switch_in(worker, fn)
    if isinstance(outcome, _Await):
        loop = asyncio.get_running_loop()
        return Pending(loop.create_task(_drive(worker, outcome)))
    return _settle(worker, outcome)


async def _drive(worker: _Worker, request: _Await) -> Any:
    outcome: Any = request
    while isinstance(outcome, _Await):
        host = worker.hc_host
        try:
            if worker.deadline is None:
                value = await outcome.awaitable
            else:
                remaining = worker.deadline - time.monotonic()
                try:
                    value = await asyncio.wait_for(outcome.awaitable, max(remaining, 0))
                except TimeoutError:
                    raise ZomeCallTimeout(f"zome call stopped: it took longer than {_max_call:g}s") from None
        except BaseException as exc:  # includes CancelledError: unwind the zome code too
            worker.parent = greenlet.getcurrent()
            worker.hc_host = host
            outcome = _switch_in(worker, exc, throw=True)
        else:
            worker.parent = greenlet.getcurrent()
            worker.hc_host = host
            outcome = _switch_in(worker, value)
    return _settle(worker, outcome)


def wait_for(awaitable: Awaitable[Any]) -> Any:
    """From zome code (or the host API under it): wait for ``awaitable``.

    Suspends the zome call's greenlet, lets the event loop run, and resumes
    with the awaitable's result (or raises its exception).
    """
    current = greenlet.getcurrent()
    if not isinstance(current, _Worker):
        raise RuntimeError("wait_for() is only usable inside a running zome call")
    return current.parent.switch(_Await(awaitable))


async def run_to_completion(fn: Callable[[], Any], host: ZomeHost | None) -> Any:
    """Run ``fn`` like :func:`start` and await it if it suspends."""
    result = start(fn, host)
    if isinstance(result, Pending):
        return await result.future
    return result
