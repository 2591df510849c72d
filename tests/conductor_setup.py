"""Helpers for the `holochain -c` tests: configs, DNAs, running conductors.

Every conductor here is a real `holochain` process on ephemeral loopback ports
(`port = 0` or `choose_free_port`), with real SQLite files under the test's
temporary directory; the `spawn` fixture stops them all.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from conftest import HOLOCHAIN, JS_DIR, REPO, node, package, write_project

DONE = "*** Done. All interfaces started."
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's, installed by `make setup`

# A zome that emits a User signal.
SIGNAL_ZOME = """
from holochain import hdk

zome = hdk.Zome(description="emits signals")

@zome.function(public=True)
def shout(message: str) -> str:
    hdk.emit_signal("shouted", {"message": message})
    return message

@zome.function(public=True)
def echo(value: str) -> str:
    return value

@zome.function()
def private_echo(value: str) -> str:
    return value
"""


def blog_copy(root: Path, name: str = "blog") -> Path:
    """The example blog DNA packaged under ``root``; returns the .dna.json."""
    project = root / name
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    return package(project)


def signal_dna(root: Path, name: str = "signals", bridges: list[dict[str, Any]] | None = None) -> Path:
    project = write_project(root, {"talk": SIGNAL_ZOME}, name=name)
    if bridges is not None:
        (project / "zomes" / "talk" / "zome.json").write_text(
            json.dumps({"description": "", "bridges": bridges}), encoding="utf-8"
        )
    return package(project)


def dna_hash(path: Path) -> str:
    from holochain.core.dna import Dna

    return Dna.from_text(path.read_bytes()).address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_str(value: str | Path) -> str:
    return json.dumps(str(value))


def agent(agent_id: str, name: str | None = None, **extra: Any) -> str:
    lines = [f'[[agents]]\nid = "{agent_id}"\nname = "{name or agent_id}"']
    lines.append(f"public_address = {toml_str(extra.pop('public_address', '[SHOULD BE REWRITTEN]'))}")
    lines.append(f"keystore_file = {toml_str(extra.pop('keystore_file', '[UNUSED]'))}")
    if extra.pop("test_agent", True):
        lines.append("test_agent = true")
    return "\n".join(lines) + "\n"


def dna(dna_id: str, file: Path, hash_: str | None = None, uuid: str | None = None) -> str:
    text = f'[[dnas]]\nid = "{dna_id}"\nfile = {toml_str(file)}\nhash = {toml_str(hash_ or dna_hash(file))}\n'
    if uuid is not None:
        text += f'uuid = "{uuid}"\n'
    return text


def instance(instance_id: str, dna_id: str, agent_id: str, storage: Path | None, *, encrypted: bool = False) -> str:
    text = f'[[instances]]\nid = "{instance_id}"\ndna = "{dna_id}"\nagent = "{agent_id}"\n'
    if storage is None:
        return text + '[instances.storage]\ntype = "memory"\n'
    text += f'[instances.storage]\ntype = "lmdb"\npath = {toml_str(storage)}\n'
    return text + ("encrypted = true\n" if encrypted else "")


def open_db(path: Path, test_agent: str | None = None) -> Any:
    """A DB-API connection to a store's database: SQLCipher's, keyed as the conductor keys it,
    when ``test_agent`` (the name of the test agent whose encrypted store it is) is given."""
    if test_agent is None:
        import sqlite3

        return sqlite3.connect(path)
    from sqlcipher3 import dbapi2

    from holochain.conductor.keystore import store_key
    from holochain.core.crypto import AgentKey

    conn = dbapi2.connect(str(path))
    conn.execute(f"PRAGMA key = \"x'{store_key(AgentKey.for_test_agent(test_agent))}'\"")
    return conn


def interface(
    interface_id: str,
    instances: list[str | tuple[str, str]],
    *,
    admin: bool = False,
    kind: str = "websocket",
    port: int = 0,
) -> str:
    text = (
        f'[[interfaces]]\nid = "{interface_id}"\nadmin = {str(admin).lower()}\n'
        f'[interfaces.driver]\ntype = "{kind}"\nport = {port}\n'
    )
    for ref in instances:
        if isinstance(ref, tuple):
            text += f'[[interfaces.instances]]\nid = "{ref[0]}"\nalias = "{ref[1]}"\n'
        else:
            text += f'[[interfaces.instances]]\nid = "{ref}"\n'
    return text


def write_config(path: Path, persistence_dir: Path, *sections: str, extra: str = "") -> Path:
    body = f"persistence_dir = {toml_str(persistence_dir)}\n" + textwrap.dedent(extra) + "\n" + "\n".join(sections)
    if "[[agents]]" not in body:
        body = "agents = []\n" + body
    path.write_text(body, encoding="utf-8")
    return path


def run_holochain(
    config: Path, cwd: Path, *, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    """Run `holochain -c` to its end (for configs it must refuse)."""
    return subprocess.run(
        [HOLOCHAIN, "-c", str(config)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, input=input
    )


def start_holochain(spawn, config: Path, cwd: Path, **kwargs: Any):
    """A running `holochain -c config`, ready (Done line seen)."""
    return spawn([HOLOCHAIN, "-c", str(config)], cwd, ready=DONE, **kwargs)


def ui_bundle(root: Path) -> Path:
    """The test UI bundle (tests/js/ui_bundle with hc-web-client built for the browser) under
    ``root``/ui, and a file beside it that must never be served."""
    bundle = root / "ui"
    bundle.mkdir()
    shutil.copy(JS_DIR / "ui_bundle" / "index.html", bundle / "index.html")
    built = node(str(JS_DIR / "build_ui_client.js"), env={"OUT": str(bundle / "hc-web-client.js")})
    assert built.returncode == 0, built.stderr
    (root / "secret.txt").write_text("not for the web")
    return bundle
