"""``holochain``: the production conductor, configured by a TOML file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import COMPATIBLE_VERSION, __version__
from ..conductor.conductor import Conductor, ConductorError
from ..conductor.config import ConfigError, load_config
from ..storage.base import StorageError
from .hc import config_root
from .runtime import StopSignal, run_async, setup_logging

__all__ = ["main"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The conductor configuration (default: ~/.config/holochain/conductor/conductor-config.toml).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, help="How much the conductor logs to stderr.")
@click.version_option(f"{COMPATIBLE_VERSION} (holochain-py {__version__})", "-V", "--version",
                      prog_name="holochain", message="%(prog)s %(version)s")
def cli(config_path: Path | None, log_level: str) -> None:
    """Run a Holochain conductor: the agents, DNAs, instances and interfaces of a
    holochain-rust TOML configuration.

    Prints `*** Bound interface '<id>' to port: <n>` for each interface and
    `*** Done. All interfaces started.` when it is ready; stops cleanly on
    SIGINT or SIGTERM.
    """
    setup_logging(log_level)
    path = config_path or config_root() / "conductor" / "conductor-config.toml"
    print(f"Using config path: {path}", flush=True)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"Error while trying to boot from config: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    for key in config.unknown_keys:
        print(f"Ignoring unknown configuration key `{key}`", file=sys.stderr, flush=True)
    sys.exit(run_async(lambda: _serve(config)))


async def _serve(config) -> int:  # type: ignore[no-untyped-def]
    from ..interfaces.service import DONE_LINE, ConductorService

    stop = StopSignal()
    service = ConductorService(Conductor(config))
    try:
        await service.start()
    except (ConfigError, ConductorError, StorageError) as exc:
        print(f"Error while trying to boot from config: {exc}", file=sys.stderr, flush=True)
        await service.stop()
        return 2
    except OSError as exc:
        print(f"Error while trying to boot from config: cannot listen: {exc.strerror}", file=sys.stderr, flush=True)
        await service.stop()
        return 2
    print(DONE_LINE, flush=True)
    try:
        await stop.wait()
    finally:
        print("Gracefully shutting down conductor...", flush=True)
        await service.stop()
        stop.close()
    return 0


def main() -> None:
    cli(prog_name="holochain")


if __name__ == "__main__":  # pragma: no cover
    main()
