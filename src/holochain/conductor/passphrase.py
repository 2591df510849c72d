"""Passphrase services: where the conductor gets the passphrase of its keystores.

Selected by the ``[passphrase_service]`` table of the configuration:

``type = "cmd"`` (the default, as in holochain-rust)
    Ask on the terminal (``Passphrase: ``, not echoed).  When standard input
    is not a terminal, read one line from it instead (``echo … | holochain``).
``type = "env"``, optional ``variable`` (default ``HOLOCHAIN_PASSPHRASE``)
    Read the passphrase from that environment variable.
``type = "file"``, ``path``
    Read the first line of that file (keep it readable by the conductor's
    user only; a file others can read is refused).
``type = "mock"``, ``passphrase``
    The passphrase is written in the configuration (holochain-rust's test
    service: for throwaway agents only).
``type = "unixsocket"``, ``path``
    holochain-rust's IPC service: the conductor listens on a Unix socket at
    ``path``, a passphrase provider connects, the conductor sends
    ``request_passphrase`` and reads the passphrase up to a newline.

The passphrase is asked once and reused for every keystore of one boot (and
for keystores the admin API creates later), so an operator types it once.
"""

from __future__ import annotations

import getpass
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

from ..core.errors import HostingError

__all__ = ["PassphraseError", "PassphraseService", "DEFAULT_ENV_VARIABLE", "SERVICE_KEYS"]

DEFAULT_ENV_VARIABLE = "HOLOCHAIN_PASSPHRASE"
# the keys each service type takes (required, optional), checked by the config parser
SERVICE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cmd": ((), ()),
    "env": ((), ("variable",)),
    "file": (("path",), ()),
    "mock": (("passphrase",), ()),
    "unixsocket": (("path",), ("timeout_seconds",)),
}
_MAX_PASSPHRASE_BYTES = 4096


class PassphraseError(HostingError):
    """No passphrase could be had; the message says from where and why (never the passphrase)."""


class PassphraseService:
    """Gets the passphrase once, as the configuration says, and remembers it."""

    def __init__(self, config: dict[str, Any], base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir
        self._cached: str | None = None

    @property
    def kind(self) -> str:
        return str(self.config.get("type", "cmd"))

    def _path(self) -> Path:
        p = Path(str(self.config["path"])).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def passphrase(self) -> str:
        if self._cached is None:
            self._cached = getattr(self, f"_from_{self.kind}")()
        return self._cached

    def _from_mock(self) -> str:
        return str(self.config["passphrase"])

    def _from_env(self) -> str:
        name = str(self.config.get("variable", DEFAULT_ENV_VARIABLE))
        value = os.environ.get(name)
        if value is None:
            raise PassphraseError(f"passphrase_service (env): the environment variable {name} is not set")
        return value

    def _from_file(self) -> str:
        path = self._path()
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise PassphraseError(f"passphrase_service (file): {path} can be read by other users; chmod 600 it")
            with open(path, "rb") as fh:
                raw = fh.read(_MAX_PASSPHRASE_BYTES + 1)
        except FileNotFoundError:
            raise PassphraseError(f"passphrase_service (file): {path} does not exist") from None
        except OSError as exc:
            raise PassphraseError(f"passphrase_service (file): cannot read {path}: {exc.strerror}") from None
        if len(raw) > _MAX_PASSPHRASE_BYTES:
            raise PassphraseError(f"passphrase_service (file): {path} is too long for a passphrase")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PassphraseError(f"passphrase_service (file): {path} is not UTF-8 text") from None
        return text.splitlines()[0] if text else ""

    def _from_cmd(self) -> str:
        stdin = sys.stdin
        if stdin is not None and stdin.isatty():
            try:
                return getpass.getpass("Passphrase: ")
            except (EOFError, KeyboardInterrupt):
                raise PassphraseError("passphrase_service (cmd): no passphrase was entered") from None
        if stdin is None:
            raise PassphraseError("passphrase_service (cmd): there is no standard input to read it from")
        line = stdin.readline(_MAX_PASSPHRASE_BYTES)
        if not line:
            raise PassphraseError(
                "passphrase_service (cmd): standard input is closed and not a terminal; "
                'pipe the passphrase in, or use type = "env" or "file"'
            )
        return line.rstrip("\r\n")

    def _from_unixsocket(self) -> str:
        path = self._path()
        timeout = float(self.config.get("timeout_seconds", 300))
        if path.exists():
            path.unlink()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(str(path))
            os.chmod(path, 0o600)
            server.listen(1)
            server.settimeout(timeout)
            print(f"Waiting for a passphrase provider on {path}", file=sys.stderr, flush=True)
            try:
                conn, _ = server.accept()
            except TimeoutError:
                raise PassphraseError(
                    f"passphrase_service (unixsocket): no provider connected to {path} within {timeout:g} s"
                ) from None
            with conn:
                conn.settimeout(timeout)
                conn.sendall(b"request_passphrase")
                data = b""
                while b"\n" not in data and len(data) <= _MAX_PASSPHRASE_BYTES:
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise PassphraseError(f"passphrase_service (unixsocket): {path}: {exc}") from None
        finally:
            server.close()
            if path.exists():
                path.unlink()
        if b"\n" not in data and not data:
            raise PassphraseError("passphrase_service (unixsocket): the provider sent no passphrase")
        return data.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
