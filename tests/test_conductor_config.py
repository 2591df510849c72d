"""`holochain -c`: configurations it runs, and every kind of mistake it refuses with a
message naming the key and the reason, a non-zero exit and nothing lost."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import tomllib

import pytest

from conductor_setup import (
    DONE,
    agent,
    blog_copy,
    dna,
    dna_hash,
    instance,
    interface,
    run_holochain,
    signal_dna,
    start_holochain,
    toml_str,
    write_config,
)
from conftest import HC, HOLOCHAIN
from holochain.client import Client
from holochain.conductor.keystore import Keystore

BOOT_ERROR = "Error while trying to boot from config: "


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    return blog_copy(tmp_path_factory.mktemp("dna"))


def refused(tmp_path, *sections: str, extra: str = "", **kwargs) -> str:
    config = write_config(tmp_path / "c.toml", tmp_path / "data", *sections, extra=extra)
    done = run_holochain(config, tmp_path, **kwargs)
    assert done.returncode == 2, done.stdout + done.stderr
    assert DONE not in done.stdout
    line = [l for l in done.stderr.splitlines() if l.startswith(BOOT_ERROR)]
    assert line, done.stderr
    return line[0][len(BOOT_ERROR) :]


# -- one test per kind of mistake ---------------------------------------------------------------


def test_toml_syntax_error(tmp_path):
    (tmp_path / "c.toml").write_text("agents = [\n")
    done = run_holochain(tmp_path / "c.toml", tmp_path)
    assert done.returncode == 2 and BOOT_ERROR + "Error loading configuration:" in done.stderr


def test_missing_config_file(tmp_path):
    done = run_holochain(tmp_path / "nope.toml", tmp_path)
    assert done.returncode == 2 and f"config file {tmp_path / 'nope.toml'} does not exist" in done.stderr


def test_missing_key(tmp_path, blog):
    assert refused(tmp_path, agent("a"), '[[dnas]]\nid = "d"\nfile = "x"\n') == "dnas[0]: missing key `hash`"
    (tmp_path / "bare.toml").write_text('[[dnas]]\nid = "d"\nfile = "x"\nhash = "y"\n')
    done = run_holochain(tmp_path / "bare.toml", tmp_path)
    assert done.returncode == 2
    assert BOOT_ERROR + "config: missing key `agents` (write `agents = []` for none)" in done.stderr


def test_wrong_type(tmp_path, blog):
    message = refused(
        tmp_path,
        agent("a"),
        dna("d", blog),
        instance("i", "d", "a", None),
        '[[interfaces]]\nid = "x"\nadmin = "yes"\n[interfaces.driver]\ntype = "websocket"\nport = 1\n',
    )
    assert message == "interfaces[0]: `admin` must be a boolean"


def test_dangling_reference(tmp_path, blog):
    assert (
        refused(tmp_path, agent("a"), dna("d", blog), instance("i", "nodna", "a", None))
        == 'DNA configuration "nodna" not found, mentioned in instance "i"'
    )
    assert (
        refused(tmp_path, agent("a"), dna("d", blog), instance("i", "d", "a", None), interface("w", ["ghost"]))
        == 'Instance configuration "ghost" not found, mentioned in interface'
    )


def test_duplicate_ids(tmp_path, blog):
    assert refused(tmp_path, agent("a"), agent("a")) == "Duplicate agent IDs detected: a"


def test_dna_hash_mismatch(tmp_path, blog):
    actual = dna_hash(blog)
    assert refused(tmp_path, agent("a"), dna("d", blog, "QmNotTheHash"), instance("i", "d", "a", None)) == (
        f'Error while trying to create instance "i": Provided DNA hash does not match actual DNA hash! '
        f"QmNotTheHash != {actual}"
    )


def test_unreadable_dna_file(tmp_path):
    missing = tmp_path / "gone.dna.json"
    message = refused(tmp_path, agent("a"), dna("d", missing, "QmX"), instance("i", "d", "a", None))
    assert message.startswith(f'Could not load DNA file "{missing}"')


def test_required_bridge_missing(tmp_path):
    caller = signal_dna(
        tmp_path, "caller", bridges=[{"presence": "required", "handle": "helper", "reference": {"traits": {}}}]
    )
    assert (
        refused(tmp_path, agent("a"), dna("c", caller), instance("i", "c", "a", None))
        == "Required bridge 'helper' for instance 'i' missing"
    )


def test_shared_storage_path(tmp_path, blog):
    path = tmp_path / "same"
    assert (
        refused(tmp_path, agent("a"), dna("d", blog), instance("i", "d", "a", path), instance("j", "d", "a", path))
        == "Forbidden duplicated file storage value encountered."
    )


def test_unknown_storage_type(tmp_path, blog):
    section = instance("i", "d", "a", None).replace('type = "memory"', 'type = "floppy"')
    assert refused(tmp_path, agent("a"), dna("d", blog), section).startswith(
        "instances[0].storage: unknown storage type `floppy`"
    )


def test_port_in_use(tmp_path, blog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert (
            refused(
                tmp_path, agent("a"), dna("d", blog), instance("i", "d", "a", None), interface("w", ["i"], port=port)
            )
            == f"interface 'w': cannot listen on port {port}: Address already in use"
        )


def test_a_second_conductor_on_the_same_port_is_refused_and_the_first_keeps_serving(tmp_path, blog, spawn):
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    first_dir.mkdir()
    second_dir.mkdir()
    first = start_holochain(
        spawn,
        write_config(
            first_dir / "c.toml",
            first_dir / "data",
            agent("a"),
            dna("d", blog),
            instance("i", "d", "a", first_dir / "data" / "i"),
            interface("w", ["i"], admin=True),
        ),
        first_dir,
    )
    port = first.ports["w"]
    message = refused(
        second_dir,
        agent("a"),
        dna("d", blog),
        instance("i", "d", "a", second_dir / "data" / "i"),
        interface("w", ["i"], port=port),
    )
    assert message == f"interface 'w': cannot listen on port {port}: Address already in use"
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    assert first.proc.poll() is None


def test_bad_passphrase_service(tmp_path):
    assert (
        refused(tmp_path, agent("a"), extra='[passphrase_service]\ntype = "file"\n')
        == "passphrase_service (file): missing key `path`"
    )
    assert refused(tmp_path, agent("a"), extra='[passphrase_service]\ntype = "telepathy"\n').startswith(
        "passphrase_service: unknown type `telepathy`"
    )


# -- keystore agents -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keystore(tmp_path_factory):
    """A keystore written by `hc keygen` (the passphrase is fed on standard input)."""
    path = tmp_path_factory.mktemp("keys") / "agent.keystore"
    done = subprocess.run(
        [HC, "keygen", "--quiet", "--path", str(path)],
        input="open sesame\nopen sesame\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    address = done.stdout.split()[0]
    return path, address


def keystore_agent(keystore) -> str:
    path, address = keystore
    return agent("alice", public_address=address, keystore_file=str(path), test_agent=False)


def test_wrong_passphrase_is_refused_and_the_keystore_is_untouched(tmp_path, keystore, blog):
    path, address = keystore
    before = path.read_bytes()
    message = refused(
        tmp_path, keystore_agent(keystore), extra='[passphrase_service]\ntype = "mock"\npassphrase = "not it"\n'
    )
    assert message == f"agent 'alice': wrong passphrase for keystore {path} (or the file was altered)"
    assert path.read_bytes() == before
    assert Keystore.load(path, "open sesame").public_address == address


def test_keystore_of_another_agent_is_refused(tmp_path, keystore):
    path, _ = keystore
    other = agent("alice", public_address="HcSsomeoneElse", keystore_file=str(path), test_agent=False)
    message = refused(tmp_path, other, extra='[passphrase_service]\ntype = "mock"\npassphrase = "open sesame"\n')
    assert message.startswith(f"Key from file '{path}' (")
    assert message.endswith("does not match public address HcSsomeoneElse mentioned in config!")


async def _agent_address_over_admin(conductor) -> str:
    async with await Client.connect(f"ws://127.0.0.1:{conductor.ports['admin']}") as admin:
        show = await admin.call_zome("app", "blog", "show_env", {})
        return show["Ok"]["agent_address"]


@pytest.mark.parametrize("service", ["env", "file", "mock", "unixsocket", "cmd"])
async def test_keystore_agent_unlocks_with_each_passphrase_service(service, tmp_path, keystore, blog, spawn):
    path, address = keystore
    env = None
    extra = f'[passphrase_service]\ntype = "{service}"\n'
    if service == "env":
        extra += 'variable = "MY_HC_PASSPHRASE"\n'
        env = {"MY_HC_PASSPHRASE": "open sesame"}
    elif service == "file":
        secret = tmp_path / "passphrase.txt"
        secret.write_text("open sesame\n")
        os.chmod(secret, 0o600)
        extra += f"path = {toml_str(secret)}\n"
    elif service == "mock":
        extra += 'passphrase = "open sesame"\n'
    elif service == "unixsocket":
        sock = tmp_path / "pass.sock"
        extra += f"path = {toml_str(sock)}\n"
        threading.Thread(target=_provide_passphrase, args=(sock, b"open sesame\n"), daemon=True).start()
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        keystore_agent(keystore),
        dna("blog", blog),
        instance("app", "blog", "alice", tmp_path / "data" / "app"),
        interface("admin", ["app"], admin=True),
        extra=extra,
    )
    if service == "cmd":  # not a terminal: one line on standard input
        proc = subprocess.Popen(
            [HOLOCHAIN, "-c", str(config)],
            cwd=tmp_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            proc.stdin.write("open sesame\n")
            proc.stdin.close()
            port = _wait_for_port(proc, "admin")
            async with await Client.connect(f"ws://127.0.0.1:{port}") as admin:
                show = await admin.call_zome("app", "blog", "show_env", {})
            assert show["Ok"]["agent_address"] == address
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            assert proc.wait(15) == 0
        return
    conductor = start_holochain(spawn, config, tmp_path, env=env)
    assert await _agent_address_over_admin(conductor) == address
    assert conductor.stop() == 0


def _provide_passphrase(sock, passphrase: bytes) -> None:
    deadline = time.monotonic() + 20
    while not sock.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        assert s.recv(64) == b"request_passphrase"
        s.sendall(passphrase)


def _wait_for_port(proc, interface_id: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    port = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(proc.stderr.read())
        if line.startswith(f"*** Bound interface '{interface_id}' to port: "):
            port = int(line.rsplit(" ", 1)[1])
        if line.strip() == DONE:
            assert port is not None
            return port
    raise TimeoutError


# -- what a good configuration does -----------------------------------------------------------------


def test_markers_come_flushed_and_in_order_and_unknown_tables_are_ignored(tmp_path, blog, spawn):
    config = write_config(
        tmp_path / "c.toml",
        tmp_path / "data",
        agent("a"),
        dna("d", blog),
        instance("i", "d", "a", None),
        interface("one", ["i"], admin=True),
        interface("two", ["i"], kind="http"),
        extra='[tracing]\ntype = "jaeger"\nservice_name = "x"\n[made_up]\nkey = 33_000\n',
    )
    conductor = start_holochain(spawn, config, tmp_path)
    lines = [l.rstrip("\n") for l in conductor.stdout_lines]
    assert lines[-1] == DONE
    assert [l.split("'")[1] for l in lines if l.startswith("*** Bound interface")] == ["one", "two"]
    assert conductor.stop(signal.SIGINT) == 0
    out, err = conductor.output()
    assert "Ignoring unknown configuration table or key `made_up`" in err
    assert "Gracefully shutting down conductor..." in out


def test_uuid_rehashes_the_dna_and_the_config_is_saved(tmp_path, blog, spawn):
    data = tmp_path / "data"
    config = write_config(
        tmp_path / "c.toml",
        data,
        agent("tester", "alice::app::123"),
        dna("d", blog, "[UNKNOWN]", uuid="123"),
        instance("i", "d", "tester", None),
        interface("admin", ["i"], admin=True),
    )
    start_holochain(spawn, config, tmp_path).stop()
    doc = tomllib.loads((data / "conductor-config.toml").read_text())
    from holochain.core.crypto import AgentKey
    from holochain.core.dna import Dna

    assert doc["dnas"][0]["hash"] == Dna.from_text(blog.read_bytes()).with_uuid("123").address != dna_hash(blog)
    assert doc["agents"][0]["public_address"] == AgentKey.for_test_agent("alice::app::123").address
    assert doc["dnas"][0]["uuid"] == "123"


def test_unimplemented_interface_driver(tmp_path, blog):
    section = (
        '[[interfaces]]\nid = "sock"\nadmin = true\n[interfaces.driver]\ntype = "domainsocket"\nfile = "/tmp/x.sock"\n'
    )
    assert (
        refused(tmp_path, agent("a"), section)
        == "interface 'sock': driver type `domainsocket` is not implemented; use websocket or http"
    )
