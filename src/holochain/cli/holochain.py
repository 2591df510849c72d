"""``holochain``: the production conductor, configured by a TOML file.

Start-up prints holochain-rust's progress lines on stdout, then
``*** Bound interface '<id>' to port: <n>`` for every interface and
``*** Done. All interfaces started.`` once every interface and UI server
listens (all flushed: tryorama reads them from a pipe).  A configuration the
conductor cannot run is reported on stderr as
``Error while trying to boot from config: <what and why>`` and the process
exits with status 2 (holochain-rust exited 0 here, leaving callers to guess).
SIGINT and SIGTERM stop it cleanly: interfaces close their connections,
stores flush, exit status 0.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from .. import COMPATIBLE_VERSION, __version__
from ..conductor.conductor import Conductor
from ..conductor.config import Configuration
from ..conductor.config_file import load_config
from ..core.errors import HolochainPyError
from .hc import config_root
from .logs import LOG_FORMATS, log_state_dumps, logger_level
from .runtime import StopSignal, boot_failed, run_async, setup_logging

__all__ = ["main"]


def _out(line: str) -> None:
    print(line, flush=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The conductor configuration (default: ~/.config/holochain/conductor/conductor-config.toml).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="How much the conductor logs to stderr (default: the [logger] table's `type`, else warning).",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    envvar="HOLOCHAIN_LOG_FORMAT",
    default="text",
    show_default=True,
    help="Logs as text lines, or as one JSON object per line for machines (no progress lines then).",
)
@click.version_option(
    f"{COMPATIBLE_VERSION} (holochain-py {__version__})",
    "-V",
    "--version",
    prog_name="holochain",
    message="%(prog)s %(version)s",
)
def cli(config_path: Path | None, log_level: str | None, log_format: str) -> None:
    """Run a Holochain conductor: the agents, DNAs, instances, interfaces, bridges
    and UI servers of a holochain-rust TOML configuration.

    Prints `*** Bound interface '<id>' to port: <n>` for each interface and
    `*** Done. All interfaces started.` when it is ready; stops cleanly on
    SIGINT or SIGTERM.  Admin API changes are saved to
    <persistence_dir>/conductor-config.toml.

    Keystore passphrases come from the [passphrase_service] table: type "cmd"
    (prompt, or a line on standard input), "env" (variable, default
    HOLOCHAIN_PASSPHRASE), "file" (path), "unixsocket" (path) or "mock"
    (passphrase).
    """
    setup_logging(log_level or "warning", fmt=log_format)
    path = config_path or config_root() / "conductor" / "conductor-config.toml"
    _out(f"Using config path: {path}")
    try:
        config = load_config(path)
    except HolochainPyError as exc:
        sys.exit(boot_failed(str(exc)))
    for key in config.unknown_keys:
        print(f"Ignoring unknown configuration table or key `{key}`", file=sys.stderr, flush=True)
    setup_logging(logger_level(config.logger, log_level), fmt=log_format, rules=config.logger.rules)
    if config.persistence_dir is None:  # holochain-rust's default
        config.persistence_dir = str(config_root() / "conductor")
    sys.exit(run_async(lambda: _serve(config)))


async def _serve(config: Configuration) -> int:
    from ..interfaces.service import DONE_LINE, ConductorService

    stop = StopSignal()
    if config.ui_bundles or config.ui_interfaces:
        _out("")
        _out("!" * 20)
        _out("DEPRECATION WARNING - Hosting a static UI via the conductor will not be supported in future releases")
        _out("!" * 20)
        _out("")
    service = ConductorService(Conductor(config, notify=_out))
    try:
        _out("Unlocking agent keys:")
        await service.start()
    except HolochainPyError as exc:  # every error of the tree, from every layer
        await service.stop()
        stop.close()
        return boot_failed(str(exc))
    if stop.is_set:  # interrupted while starting
        await service.stop()
        stop.close()
        return 0
    _out(DONE_LINE)
    dumps = asyncio.ensure_future(log_state_dumps(service.conductor)) if config.logger.state_dump else None
    try:
        await stop.wait()
    finally:
        if dumps is not None:
            dumps.cancel()
        _out("Gracefully shutting down conductor...")
        await service.stop()
        stop.close()
    return 0


def main() -> None:
    cli(prog_name="holochain")


if __name__ == "__main__":  # pragma: no cover
    main()
