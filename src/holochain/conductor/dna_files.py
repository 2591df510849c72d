"""Reading a ``.dna.json`` file: bounded, regular files only, never blocking on a FIFO."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..core.dna import Dna, DnaError
from .conductor_error import ConductorError

__all__ = ["MAX_DNA_BYTES", "load_dna_file"]


MAX_DNA_BYTES = 64 * 1024 * 1024


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (OSError or ValueError otherwise).

    Opened without blocking and checked before reading: a FIFO would wait for a writer forever,
    and ``/dev/zero`` never ends.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError(f"larger than {limit // (1024 * 1024)} MiB")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise ValueError(f"larger than {limit // (1024 * 1024)} MiB")
    return data


def load_dna_file(path: Path) -> Dna:
    """Read and parse a ``.dna.json`` file: a regular file of at most :data:`MAX_DNA_BYTES`
    (raises :class:`ConductorError`)."""
    try:
        text = _read_regular_file(path, MAX_DNA_BYTES)
    except FileNotFoundError:
        raise ConductorError(f'Could not load DNA file "{path}": no such file') from None
    except OSError as exc:
        raise ConductorError(f'Could not load DNA file "{path}": {exc.strerror}') from None
    except ValueError as exc:
        raise ConductorError(f'Could not load DNA file "{path}": {exc}') from None
    try:
        return Dna.from_text(text)
    except DnaError as exc:
        raise ConductorError(f'Could not load DNA file "{path}", Error: {exc}') from None
