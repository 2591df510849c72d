"""What both commands share: logging set-up, the event loop, and a clean stop."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from .logs import setup_logging  # logging set-up lives in .logs; kept importable from here

__all__ = ["setup_logging", "run_async", "StopSignal", "boot_failed", "BOOT_ERROR", "EXIT_BOOT_FAILED"]

# How both commands report a configuration they cannot run (holochain-rust's words), and
# the exit status that says so (holochain-rust exited 0 here, leaving callers to guess).
BOOT_ERROR = "Error while trying to boot from config: "
EXIT_BOOT_FAILED = 2


def boot_failed(message: str) -> int:
    """Print ``Error while trying to boot from config: <message>`` on stderr; the exit status."""
    print(BOOT_ERROR + message, file=sys.stderr, flush=True)
    return EXIT_BOOT_FAILED


def raise_open_files_limit() -> None:
    """Allow as many open files as the system lets us: each connection is one."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY:
            hard = 1 << 20
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - best effort
        pass


def run_async(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``main`` on uvloop when available (it is faster), else asyncio."""
    raise_open_files_limit()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(main())
    return uvloop.run(main())


class StopSignal:
    """Set by SIGINT or SIGTERM (or ``exit`` at an interactive prompt).

    Create it before starting anything, so a signal that arrives while the
    conductor starts up still stops it cleanly.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(sig, self._event.set)

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, prompt: bool = False) -> None:
        reader_task = None
        if prompt and sys.stdin is not None and sys.stdin.isatty():
            reader_task = asyncio.ensure_future(_prompt_loop(self._event))
        try:
            await self._event.wait()
        finally:
            if reader_task is not None:
                reader_task.cancel()

    def close(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.remove_signal_handler(sig)


async def _prompt_loop(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        print("hc> ", end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:  # EOF: keep serving until a signal
            return
        command = line.strip()
        if command == "exit":
            stop.set()
        elif command:
            print(f"command {command} not recognized. Available commands are: exit", file=sys.stderr)
