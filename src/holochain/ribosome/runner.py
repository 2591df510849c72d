"""Running synchronous zome code on the event loop, suspending only when it must.

Zome functions are plain functions, as in the Rust HDK.  They run on the
event-loop thread inside a worker greenlet.  When an HDK call needs to wait
(the network, a timer, another instance), :func:`wait_for` switches back to
the loop with the awaitable; the loop awaits it and switches the result back
in.  A call that never waits, the common case, completes synchronously with
no task created: :func:`start` then returns its result directly.

Worker greenlets are pooled: creating a greenlet costs ~8 µs, switching into
a parked one ~0.5 µs.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import greenlet

__all__ = ["start", "wait_for", "Pending", "run_to_completion"]

_MAX_IDLE = 64


class _Worker(greenlet.greenlet):
    """A reusable greenlet; ``hc_host`` is the running call's host (or None)."""

    __slots__ = ("hc_host",)

    def __init__(self) -> None:
        super().__init__(self._loop)
        self.hc_host: Any = None

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

    def __init__(self, future: "asyncio.Future[Any]") -> None:
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


def start(fn: Callable[[], Any], host: Any) -> Any:
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
    outcome = worker.switch(fn)
    if isinstance(outcome, _Await):
        loop = asyncio.get_running_loop()
        return Pending(loop.create_task(_drive(worker, outcome)))
    return _settle(worker, outcome)


async def _drive(worker: _Worker, request: _Await) -> Any:
    outcome: Any = request
    while isinstance(outcome, _Await):
        host = worker.hc_host
        try:
            value = await outcome.awaitable
        except BaseException as exc:  # includes CancelledError: unwind the zome code too
            worker.parent = greenlet.getcurrent()
            worker.hc_host = host
            outcome = worker.throw(exc)
        else:
            worker.parent = greenlet.getcurrent()
            worker.hc_host = host
            outcome = worker.switch(value)
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


async def run_to_completion(fn: Callable[[], Any], host: Any) -> Any:
    """Run ``fn`` like :func:`start` and await it if it suspends."""
    result = start(fn, host)
    if isinstance(result, Pending):
        return await result.future
    return result
