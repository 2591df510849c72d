"""``hc``: the developer's command: scaffold, package, hash and run a DNA."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..core.dna import Dna, DnaError
from . import scaffold
from .chain_cmd import chain_cmd
from .test_cmd import test_cmd

__all__ = ["main"]


def _fail(message: str) -> click.exceptions.Exit:
    click.echo(f"Error: {message}", err=True)
    return click.exceptions.Exit(1)


def _default_dna_path() -> Path:
    return Path("dist") / f"{Path.cwd().name}.dna.json"


def config_root() -> Path:
    """holochain-rust's config root: ``$XDG_CONFIG_HOME/holochain`` (``~/.config/holochain``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "holochain"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="hc")
def cli() -> None:
    """Holochain developer tools: make a DNA in Python, package it, and run it.

    \b
    A typical session:
      hc init my_app && cd my_app
      hc generate zomes/notes     # a Python zome that runs as generated
      hc package                  # writes dist/my_app.dna.json
      hc test                     # package, then run test/ (pytest, node)
      hc run                      # JSON-RPC on ws://localhost:8888
      hc chain                    # after `hc run --persist`: the stored chain
    """


@cli.command("init")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def init_cmd(path: Path) -> None:
    """Create a new DNA project at PATH (which must be empty or absent)."""
    if path.exists() and any(path.iterdir()):
        raise _fail("directory is not empty")
    (path / "zomes").mkdir(parents=True, exist_ok=True)
    (path / "test").mkdir(exist_ok=True)
    (path / "app.json").write_text(scaffold.app_json(path.resolve().name), encoding="utf-8")
    (path / ".gitignore").write_text(scaffold.GITIGNORE, encoding="utf-8")
    (path / ".hcignore").write_text(scaffold.HCIGNORE, encoding="utf-8")
    (path / "README.md").write_text(scaffold.project_readme(path.resolve().name), encoding="utf-8")
    (path / "pytest.ini").write_text(scaffold.PYTEST_INI, encoding="utf-8")
    (path / "test" / "conftest.py").write_text(scaffold.TEST_CONFTEST, encoding="utf-8")
    (path / "test" / "test_dna.py").write_text(scaffold.project_test(path.resolve().name), encoding="utf-8")
    click.echo(f'Created new Holochain project at: "{path}"')


@cli.command("generate")
@click.argument("zome_path", type=click.Path(file_okay=False, path_type=Path))
def generate_cmd(zome_path: Path) -> None:
    """Add a Python zome at ZOME_PATH (e.g. zomes/notes), ready to package and run."""
    name = zome_path.name
    if not name.isidentifier():
        raise _fail(f"zome name {name!r} must be a Python identifier (letters, digits, _)")
    code = zome_path / "code"
    if (code / "__init__.py").exists():
        raise _fail(f"{zome_path} already holds a zome")
    code.mkdir(parents=True, exist_ok=True)
    (zome_path / "zome.json").write_text(scaffold.zome_json(name), encoding="utf-8")
    (code / "__init__.py").write_text(scaffold.zome_code(name), encoding="utf-8")
    click.echo(f"Generated zome '{name}' at {zome_path}: edit {code / '__init__.py'}")
    tests = Path("test")
    test_file = tests / f"test_{name}.py"
    if tests.is_dir() and not test_file.exists():
        test_file.write_text(scaffold.zome_test(name), encoding="utf-8")
        if not (tests / "conftest.py").exists():
            (tests / "conftest.py").write_text(scaffold.TEST_CONFTEST, encoding="utf-8")
        click.echo(f"Added its test {test_file}: run it with `hc test`")


@cli.command("package")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the DNA (default: dist/<directory name>.dna.json).",
)
@click.option("-p", "--properties", help="DNA properties as a JSON object (app.json's own win).")
def package_cmd(output: Path | None, properties: str | None) -> None:
    """Build the DNA file from this project: app.json plus every zome's code.

    \b
    A zome is zomes/<name>/ with its zome.json and its code:
      code/__init__.py   a Python zome (bundled as it is)
      code/.hcbuild      a WebAssembly zome: its build steps run in code/
                         (bash, as holochain-rust ran them), the artifact
                         is embedded, and entry types, traits and functions
                         come from the wasm's __hdk_get_json_definition
      <name>.wasm or code/<name>.wasm   a ready WebAssembly zome
    """
    from ..ribosome.packager import PackageError, package_project, write_package

    props = None
    if properties is not None:
        try:
            props = json.loads(properties)
        except json.JSONDecodeError as exc:
            raise _fail(f"Failed to parse properties argument as JSON: {exc}")
    try:
        tree, dna = package_project(Path.cwd(), props)
    except PackageError as exc:
        raise _fail(str(exc))
    output = output or _default_dna_path()
    write_package(tree, output)
    click.echo(f'Created DNA package file at "{output}"')
    click.echo(f"DNA hash: {dna.address}")


@cli.command("hash")
@click.option(
    "-p",
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DNA file (default: dist/<directory name>.dna.json).",
)
@click.option(
    "-x",
    "--property",
    "props",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a string property before hashing (repeatable).",
)
@click.option("-u", "--uuid", help="Set the DNA's uuid before hashing.")
def hash_cmd(path: Path | None, props: tuple[str, ...], uuid: str | None) -> None:
    """Print a DNA's hash, as holochain-rust computes it (the instance's DNA address)."""
    path = path or _default_dna_path()
    try:
        dna = Dna.from_text(path.read_bytes())
    except FileNotFoundError:
        raise _fail(f"DNA file {path} not found (run `hc package` first?)")
    except DnaError as exc:
        raise _fail(f"{path}: {exc}")
    pairs: dict[str, str] = {}
    for prop in props:
        parts = prop.split("=")
        if len(parts) != 2:
            raise _fail(f"Can't parse property: {prop}")
        pairs[parts[0]] = parts[1]
    if pairs:
        dna = dna.with_string_properties(pairs)
    if uuid is not None:
        dna = dna.with_uuid(uuid)
    click.echo(f"DNA Hash: {dna.address}")


@cli.command("keygen")
@click.option(
    "-p",
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the keystore (default: ~/.config/holochain/keys/<address>).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the address and the file path.")
@click.option(
    "-n",
    "--nullpass",
    is_flag=True,
    help="Use the well-known insecure passphrase (for tests and throwaway agents only).",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Overwrite the file at --path if there is one (the agent identity it holds is lost).",
)
def keygen_cmd(path: Path | None, quiet: bool, nullpass: bool, force: bool) -> None:
    """Create a new agent key and save it in a passphrase-encrypted keystore file (mode 0600).

    An existing file at --path is never replaced unless --force is given: it
    may be the only copy of an agent's identity.
    """
    from ..conductor.keystore import NULL_PASSPHRASE, Keystore

    def refuse_existing() -> None:
        if path is not None and not force and (path.exists() or path.is_symlink()):
            raise _fail(
                f"{path} already exists (it may hold an agent's only key); "
                "choose another --path, or add --force to overwrite it"
            )

    refuse_existing()
    if nullpass:
        passphrase = NULL_PASSPHRASE
    else:
        passphrase = click.prompt("Passphrase", hide_input=True, err=True)
        again = click.prompt("Re-enter passphrase", hide_input=True, err=True)
        if passphrase != again:
            raise _fail("Passphrases do not match")
    if not quiet:
        click.echo("Generating keystore (this will take a few moments)...", err=True)
    keystore = Keystore.generate()
    target = path or config_root() / "keys" / keystore.public_address
    refuse_existing()  # again: the passphrase prompt may have taken a while
    keystore.save(target, passphrase)
    if quiet:
        click.echo(keystore.public_address)
        click.echo(str(target))
    else:
        click.echo(f"Public address: {keystore.public_address}")
        click.echo(f"Keystore written to: {target}")


@cli.command("run")
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=8888,
    show_default=True,
    help="Port of the interface (0: pick a free one).",
)
@click.option("-b", "--package", "do_package", is_flag=True, help="Package the project first.")
@click.option(
    "-d",
    "--dna",
    "dna_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DNA file to run (default: dist/<directory name>.dna.json).",
)
@click.option(
    "-i",
    "--interface",
    type=click.Choice(["websocket", "http"], case_sensitive=False),
    envvar="HC_INTERFACE",
    default="websocket",
    show_default=True,
    help="Serve JSON-RPC over WebSocket or HTTP POST.",
)
@click.option(
    "-a",
    "--agent-name",
    envvar="HC_AGENT",
    default="testAgent",
    show_default=True,
    help="Name the agent's key is derived from (same name, same address).",
)
@click.option("--persist", is_flag=True, help="Keep the chain in ./.hc (SQLite) across restarts.")
@click.option(
    "-w",
    "--watch",
    is_flag=True,
    help="Package first, then repackage and reload the zome code whenever a zome's source changes "
    "(the chain is kept; code that fails to load is reported and the previous code keeps running).",
)
@click.option("--logging", "verbose", is_flag=True, help="Log what the conductor does (to stderr).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="HOLOCHAIN_LOG_FORMAT",
    default="text",
    show_default=True,
    help="Logs as text lines, or one JSON object per line for machines (no progress lines then).",
)
@click.option(
    "--networked",
    type=click.Choice(["nats", "sim2h"], case_sensitive=False),
    is_flag=False,
    flag_value="nats",
    default=None,
    help="Join a network through a NATS relay (`sim2h`: write holochain-rust's sim2h table, "
    "its URL taken as the relay's).",
)
@click.option(
    "--server",
    "--sim2h-server",
    "servers",
    multiple=True,
    metavar="URL",
    help="The relay: nats://, tls://, ws:// or wss:// (repeat to list a cluster; default "
    "nats://127.0.0.1:4222, or ws://localhost:9000 with `--networked sim2h`).",
)
@click.option(
    "--dashboard-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the dashboard and /metrics on 127.0.0.1 (0: a free one; the URL, with its token, is printed).",
)
@click.option("--no-dashboard", is_flag=True, help="Serve no dashboard.")
def run_cmd(
    port: int,
    do_package: bool,
    dna_path: Path | None,
    interface: str,
    agent_name: str,
    persist: bool,
    watch: bool,
    verbose: bool,
    log_format: str,
    networked: str | None,
    servers: tuple[str, ...],
    dashboard_port: int,
    no_dashboard: bool,
) -> None:
    """Run this DNA in a development conductor.

    One instance `test-instance` (DNA `hc-run-dna`, agent `hc-run-agent`) is
    served as JSON-RPC 2.0: `info/instances`, and `call` with
    {instance_id, zome, function, args}.  Stop with Ctrl-C (or `exit`).
    Alone by default; `--networked` shares its DHT with every conductor
    running the same DNA on the same relay (start one with `nats-server`).
    A dashboard (chain, DHT, network, live log) and Prometheus /metrics are
    served on loopback: open the `Dashboard: http://127.0.0.1:…` URL printed
    at start.
    """
    from .run import network_table, run_dev_conductor

    if servers and networked is None:
        raise _fail("--server needs --networked")

    from ..core.progress import set_enabled

    set_enabled(log_format != "json")
    if do_package or watch:
        from ..ribosome.packager import PackageError, package_project, write_package

        try:
            tree, dna = package_project(Path.cwd())
        except PackageError as exc:
            raise _fail(str(exc))
        target = dna_path or _default_dna_path()
        write_package(tree, target)
        click.echo(f'Created DNA package file at "{target}"')
    code = run_dev_conductor(
        dna_path=dna_path or _default_dna_path(),
        port=port,
        interface=interface.lower(),
        agent_name=agent_name,
        persist=persist,
        verbose=verbose,
        network=network_table(networked.lower() if networked else None, servers),
        watch=Path.cwd() if watch else None,
        dashboard_port=None if no_dashboard else dashboard_port,
        log_format=log_format,
    )
    sys.exit(code)


cli.add_command(chain_cmd)
cli.add_command(test_cmd)


def main() -> None:
    cli(prog_name="hc")


if __name__ == "__main__":  # pragma: no cover
    main()
