"""``hc chain``: print an instance's stored source chain, newest first.

Reads the SQLite store read-only (see :mod:`holochain.storage.chain_reader`),
so it is safe while the conductor that owns the store is running.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..storage.base import StorageError
from ..storage.chain_reader import ChainReader, ChainRecord, find_stores

__all__ = ["chain_cmd"]

DEFAULT_PATH = Path(".hc")  # where `hc run --persist` keeps its one instance
HC_RUN_INSTANCE = "test-instance"
DEFAULT_LIMIT = 20
ENTRY_CHARS = 300  # longer entries (a Dna entry carries all the zome code) are cut in text output


def _stores(path: Path) -> dict[str, Path]:
    """Instance names to store directories; a store at ``path`` itself is named after
    ``hc run``'s instance (for ``.hc``) or after the directory."""
    if not path.is_dir():
        raise click.ClickException(
            f"{path} is not a directory"
            + (
                " (run `hc run --persist` first, or give a conductor's storage path with --path)"
                if path == DEFAULT_PATH
                else ""
            )
        )
    named: dict[str, Path] = {}
    for name, directory in find_stores(path).items():
        if name == ".":
            name = HC_RUN_INSTANCE if path == DEFAULT_PATH else path.resolve().name
        named[name] = directory
    return named


def _configured_stores(config_path: Path) -> dict[str, Path]:
    """The persistent instances of a conductor configuration: instance id to its storage directory
    (relative paths taken from the current directory, as the conductor does)."""
    from ..conductor.config import ConfigError
    from ..conductor.config_file import load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(f"{config_path}: {exc}")
    return {
        inst.id: Path(inst.storage.path).expanduser()
        for inst in config.instances
        if inst.storage.persistent and inst.storage.path
    }


def _print_record(record: ChainRecord) -> None:
    header = record.header
    click.echo(f"#{record.seq}  {header.get('timestamp', '')}  {record.entry_type}")
    click.echo(f"    header  {record.header_address}")
    click.echo(f"    entry   {record.entry_address}")
    entry = record.entry
    if entry is None:
        entry = "(entry missing from the store)"
    elif len(entry) > ENTRY_CHARS:
        entry = f"{entry[:ENTRY_CHARS]}... ({len(entry)} characters; --json prints it whole)"
    click.echo(f"    {entry}")


@click.command("chain")
@click.argument("instance", required=False)
@click.option(
    "-p",
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_PATH,
    show_default=True,
    help="Where the stores are: `hc run --persist`'s .hc, or a conductor's storage path "
    "(searched for instance stores).",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A conductor configuration: its persistent instances, by id (instead of --path).",
)
@click.option("-l", "--list", "list_only", is_flag=True, help="List the instances found and their chain lengths.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object) instead of text.")
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="How many records to print, from the newest.",
)
@click.option("-s", "--skip", type=click.IntRange(min=0), default=0, help="Skip this many of the newest records first.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Print every record (ignores --limit).")
def chain_cmd(
    instance: str | None,
    path: Path,
    config_path: Path | None,
    list_only: bool,
    as_json: bool,
    limit: int,
    skip: int,
    show_all: bool,
) -> None:
    """Print an instance's source chain as stored: newest record first, each
    header with its entry.

    \b
    Safe while the conductor runs: the store is opened read-only, and what
    the conductor has committed is shown.  Examples:
      hc chain                          # after `hc run --persist`
      hc chain --list --path ~/.holochain/storage
      hc chain my-instance -c conductor-config.toml
      hc chain my-instance --path storage --skip 20     # the next page
      hc chain --json --all > chain.json
    """
    if config_path is not None:
        stores = _configured_stores(config_path)
        if not stores:
            raise click.ClickException(f"no instance in {config_path} has persistent storage")
        path = config_path
    else:
        stores = _stores(path)
    if list_only:
        _list(stores, as_json)
        return
    if not stores:
        raise click.ClickException(f"no instance stores under {path}")
    if instance is None:
        if len(stores) > 1:
            raise click.ClickException(
                f"{len(stores)} instances under {path}: name one of {', '.join(stores)} (or see --list)"
            )
        instance = next(iter(stores))
    directory = stores.get(instance)
    if directory is None:
        raise click.ClickException(f"no instance '{instance}' under {path}; found: {', '.join(stores) or 'none'}")
    try:
        with ChainReader(directory) as reader:
            length = reader.length()
            records = reader.newest_first(skip=skip, limit=None if show_all else limit)
            if as_json:
                _print_json(instance, reader, length, records)
            else:
                _print_text(instance, reader, length, records, skip)
    except StorageError as exc:
        raise click.ClickException(str(exc))
    except BrokenPipeError:  # `hc chain --all | head`
        sys.stderr.close()


def _list(stores: dict[str, Path], as_json: bool) -> None:
    rows = []
    for name, directory in stores.items():
        try:
            with ChainReader(directory) as reader:
                rows.append({"instance": name, "path": str(directory), "length": reader.length()})
        except StorageError as exc:
            rows.append({"instance": name, "path": str(directory), "error": str(exc)})
    if as_json:
        click.echo(orjson.dumps(rows).decode())
        return
    if not rows:
        click.echo("No instance stores found.")
    for row in rows:
        what = f"{row['length']} records" if "length" in row else row["error"]
        click.echo(f"{row['instance']}  {what}  ({row['path']})")


def _print_text(instance: str, reader: ChainReader, length: int, records, skip: int) -> None:
    click.echo(f"Chain of '{instance}' ({reader.path}): {length} records, newest first")
    shown = 0
    for record in records:
        click.echo("")
        _print_record(record)
        shown += 1
    rest = length - skip - shown
    if rest > 0:
        click.echo("")
        click.echo(f"... {rest} older records (--skip {skip + shown} for the next page, --all for every record)")


def _print_json(instance: str, reader: ChainReader, length: int, records) -> None:
    """One JSON object, written record by record (an --all of a long chain is never held whole)."""
    out = sys.stdout
    out.write(orjson.dumps({"instance": instance, "path": str(reader.path), "length": length}).decode()[:-1])
    out.write(',"records":[')
    for i, record in enumerate(records):
        if i:
            out.write(",")
        out.write(orjson.dumps(record.to_json()).decode())
    out.write("]}\n")
    out.flush()
