"""What an admin client sends is bounded: one id rule for every id (never a path), DNA files read
off the event loop as regular files of bounded size, UI bundles serving only their regular files;
random ids and paths (hypothesis) against a real `holochain -c`.

Each attack here worked before: ``admin/instance/add`` with id ``../../../../tmp/x`` or ``/abs``
created databases outside persistence_dir, ``""`` put one in ``storage/`` itself, a NUL or 5,000
characters gave a traceback; ``install_from_file`` of /dev/zero grew the conductor until the OOM
killer came, and of a FIFO froze every interface."""

from __future__ import annotations

import asyncio
import os
import re
import time
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from conductor_setup import (
    agent,
    blog_copy,
    dna,
    free_port,
    instance,
    interface,
    run_holochain,
    toml_str,
    write_config,
)
from conftest import HOLOCHAIN, Process
from holochain.client import Client, RpcError
from holochain.conductor.ids import MAX_ID_LENGTH

EXAMPLES = int(os.environ.get("HC_FUZZ_EXAMPLES", "60"))
VALID_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+~-]*")
BOOT_ERROR = "Error while trying to boot from config: "
BAD_IDS = ["../../../../tmp/x", "/abs/x", "", "a\x00b", "x" * 5000, ".hidden", "a/b", "a\\b", "-rf", " x", "é"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One `holochain -c` (admin interface, a UI bundle) shared by the module, with its own loop."""
    root = tmp_path_factory.mktemp("inputs")
    blog = blog_copy(root)
    data = root / "data"
    data.mkdir()
    bundle = root / "bundle"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "index.html").write_text("<p>index</p>")
    (bundle / "sub" / "page.html").write_text("<p>page</p>")
    (bundle / ".env").write_text("SECRET=dotfile")
    (bundle / "link-out").symlink_to(root / "outside.txt")
    (root / "outside.txt").write_text("SECRET=outside")
    ui_port = free_port()
    config = write_config(
        data / "conductor-config.toml",
        data,
        agent("alice"),
        dna("blog", blog),
        instance("app", "blog", "alice", data / "app"),
        interface("admin", ["app"], admin=True),
        f'[[ui_bundles]]\nid = "bundle"\nroot_dir = {toml_str(bundle)}\n'
        f'[[ui_interfaces]]\nid = "ui"\nbundle = "bundle"\nport = {ui_port}\nreroute_to_root = false\n',
    )
    proc = Process([HOLOCHAIN, "-c", str(config)], root, ready="*** Done. All interfaces started.")
    loop = asyncio.new_event_loop()
    try:
        yield {"root": root, "data": data, "blog": blog, "port": proc.ports["admin"], "ui": ui_port, "loop": loop}
    finally:
        loop.close()
        proc.stop()
        assert proc.proc.returncode == 0, "the conductor did not survive"


def files_under(path) -> set[str]:
    return {os.path.join(d, f) for d, dirs, files in os.walk(path) for f in files + dirs}


def files_outside(root, storage) -> set[str]:
    return {p for p in files_under(root) if p != str(storage) and not p.startswith(str(storage) + os.sep)}


async def request(port: int, method: str, params) -> tuple[str, object]:
    async with await Client.connect(f"ws://127.0.0.1:{port}", timeout=20) as admin:
        try:
            return "ok", await admin.request(method, params)
        except RpcError as exc:
            return "error", (exc.code, exc.message)


def run(world, coro):
    return world["loop"].run_until_complete(coro)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_bad_instance_id_is_refused_with_a_clear_error_and_creates_nothing(world, bad):
    before = files_under(world["root"])
    target = None if "\x00" in bad else os.path.normpath(os.path.join(world["data"], "storage", bad))
    assert target is None or not os.path.exists(target) or target.startswith(str(world["data"]))
    outcome, (code, message) = run(
        world, request(world["port"], "admin/instance/add", {"id": bad, "dna_id": "blog", "agent_id": "alice"})
    )
    assert outcome == "error" and code == -32602, message
    assert message.startswith("`id`: instance id") and (
        "too long" in message or "not allowed" in message or "empty" in message
    )
    assert "Traceback" not in message and len(message) < 300
    assert files_under(world["root"]) == before
    assert target is None or not os.path.exists(target) or target.startswith(str(world["data"]))  # nothing outside


@pytest.mark.parametrize(
    ("method", "params", "key", "kind"),
    [
        ("admin/agent/add", {"id": "../k", "name": "n"}, "id", "agent"),
        ("test/agent/add", {"id": "a b", "name": "n"}, "id", "agent"),
        ("admin/dna/install_from_file", {"id": "d/../x", "path": "p"}, "id", "dna"),
        ("admin/interface/add", {"id": "", "admin": False, "type": "websocket", "port": 0}, "id", "interface"),
        ("admin/bridge/add", {"caller_id": "app", "callee_id": "app", "handle": "h\n"}, "handle", "bridge handle"),
        ("admin/ui/install", {"id": "/ui", "root_dir": "."}, "id", "UI bundle"),
        ("admin/ui_interface/add", {"id": "u" * 200, "port": 0, "bundle": "bundle"}, "id", "UI interface"),
    ],
)
def test_every_kind_of_id_follows_the_one_rule(world, method, params, key, kind):
    before = files_under(world["root"])
    outcome, (code, message) = run(world, request(world["port"], method, params))
    assert outcome == "error" and code == -32602 and message.startswith(f"`{key}`: {kind} id"), message
    assert files_under(world["root"]) == before  # no keystore, no copy, nothing


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory", "huge"])
def test_install_from_file_reads_only_bounded_regular_files_and_keeps_serving(world, special):
    path = {
        "/dev/zero": "/dev/zero",
        "fifo": world["root"] / "fifo",
        "directory": world["root"],
        "huge": world["root"] / "huge.dna.json",
    }[special]
    if special == "fifo" and not os.path.exists(path):
        os.mkfifo(path)
    if special == "huge":
        with open(path, "wb") as fh:
            fh.truncate(65 * 1024 * 1024)  # sparse: costs no disk
    started = time.monotonic()
    outcome, (code, message) = run(
        world, request(world["port"], "admin/dna/install_from_file", {"id": "x", "path": str(path)})
    )
    assert outcome == "error" and code == -32603
    reason = "larger than 64 MiB" if special == "huge" else "not a regular file"
    assert message == f'Could not load DNA file "{path}", Error: {reason}'
    assert time.monotonic() - started < 30  # the request timeout of the client is 20 s: it was answered
    outcome, instances = run(world, request(world["port"], "admin/instance/list", {}))
    assert outcome == "ok" and [i["id"] for i in instances] == ["app"]


def test_a_config_file_with_a_bad_id_is_a_boot_error(tmp_path):
    blog = blog_copy(tmp_path)
    config = write_config(tmp_path / "c.toml", tmp_path / "data", agent("alice"), dna("../blog", blog))
    done = run_holochain(config, tmp_path)
    assert done.returncode == 2
    assert f"{BOOT_ERROR}dna id '../blog' is not allowed" in done.stderr, done.stderr


ids = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="abc./\\-_:@+~ \x00", max_size=12),
    st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.:@+~-]{0,20}\Z"),
    st.integers(MAX_ID_LENGTH - 2, MAX_ID_LENGTH + 2).map(lambda n: "i" * n),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instance_id=ids)
def test_random_instance_ids_are_stored_under_persistence_dir_or_refused_by_the_rule(world, instance_id):
    storage = world["data"] / "storage"
    outside_before = files_outside(world["root"], storage)
    outcome, result = run(
        world, request(world["port"], "admin/instance/add", {"id": instance_id, "dna_id": "blog", "agent_id": "alice"})
    )
    valid = 0 < len(instance_id) <= MAX_ID_LENGTH and VALID_ID.fullmatch(instance_id) is not None
    if outcome == "ok":
        assert valid, instance_id
        assert (storage / instance_id).is_dir() and (storage / instance_id).parent == storage
        assert run(world, request(world["port"], "admin/instance/remove", {"id": instance_id}))[0] == "ok"
    else:
        code, message = result
        if valid:  # only an existing id may be refused otherwise
            assert (code, message) == (-32603, f"Duplicate instance IDs detected: {instance_id}")
        else:
            assert code == -32602 and message.startswith("`id`: instance id"), message
    assert files_outside(world["root"], storage) == outside_before


paths = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(["..", ".", "sub", "page.html", ".env", "link-out", "index.html", "%2e%2e", "", "%00"]),
        max_size=6,
    ).map("/".join),
    st.integers(1000, 5000).map(lambda n: "a/" * (n // 2)),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths)
def test_random_ui_paths_serve_bundle_files_or_404_never_a_secret_or_an_error(world, path):
    async def get() -> tuple[int, str]:
        url = f"http://127.0.0.1:{world['ui']}/" + quote(path, safe="/%")
        async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as r:
            return r.status, await r.text(errors="replace")

    status, body = run(world, get())
    assert status in (200, 400, 404), (path, status)
    assert "SECRET" not in body
    if status == 200:
        assert body in ("<p>index</p>", "<p>page</p>")
