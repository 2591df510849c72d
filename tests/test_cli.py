"""The `hc` and `holochain` commands as users run them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import HC, HOLOCHAIN, REPO
from holochain.client import Client
from holochain.conductor.keystore import NULL_PASSPHRASE, Keystore, KeystoreFileError


def hc(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([HC, *args], cwd=cwd, capture_output=True, text=True, timeout=60, input=input)


@pytest.mark.parametrize("command", ["init", "generate", "package", "hash", "keygen", "run", "test", "chain"])
def test_every_command_explains_itself(command, tmp_path):
    done = hc(command, "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "Usage: hc " + command in done.stdout
    assert len(done.stdout.splitlines()) > 4


async def test_init_generate_package_run_a_new_project(tmp_path, spawn):
    assert hc("init", "my_app", cwd=tmp_path).returncode == 0
    project = tmp_path / "my_app"
    for name in ("app.json", ".gitignore", ".hcignore", "zomes"):
        assert (project / name).exists()
    assert json.loads((project / "app.json").read_text())["properties"] is None
    assert hc("init", "my_app", cwd=tmp_path).stderr.strip() == "Error: directory is not empty"

    assert hc("generate", "zomes/notes", cwd=project).returncode == 0
    packaged = hc("package", cwd=project)
    assert packaged.returncode == 0, packaged.stderr
    assert 'Created DNA package file at "dist/my_app.dna.json"' in packaged.stdout
    dna_hash = packaged.stdout.split("DNA hash: ")[1].strip()
    assert hc("hash", cwd=project).stdout.strip() == f"DNA Hash: {dna_hash}"
    tree = json.loads((project / "dist" / "my_app.dna.json").read_text())
    zome = tree["zomes"]["notes"]
    assert set(zome) >= {"code", "entry_types", "traits", "fn_declarations", "description"}
    assert zome["traits"] == {"hc_public": {"functions": ["create_my_entry", "get_my_entry"]}}

    conductor = spawn([HC, "run", "--port", "0"], project)
    async with await Client.connect(conductor.url) as client:
        created = await client.call_zome("test-instance", "notes", "create_my_entry", {"entry": {"content": "hi"}})
        got = await client.call_zome("test-instance", "notes", "get_my_entry", {"address": created["Ok"]})
        assert got == {"Ok": {"App": ["my_entry", '{"content":"hi"}']}}
        refused = await client.call_zome("test-instance", "notes", "create_my_entry", {"entry": {"content": ""}})
        assert "content must not be empty" in refused["Err"]["Internal"]


def test_package_is_deterministic_and_hash_ignores_formatting(tmp_path):
    import shutil

    project = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    first = hc("package", "-o", "dist/one.dna.json", cwd=project).stdout
    (project / "zomes" / "blog" / "code" / "__pycache__").mkdir(exist_ok=True)  # must not be bundled
    (project / "zomes" / "blog" / "code" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    second = hc("package", "-o", "dist/two.dna.json", cwd=project).stdout
    assert first.split("DNA hash: ")[1] == second.split("DNA hash: ")[1]
    pretty = json.loads((project / "dist" / "one.dna.json").read_text())
    (project / "dist" / "reformatted.txt").write_text(json.dumps(pretty, indent=7, sort_keys=True))
    assert (
        hc("hash", "-p", "dist/reformatted.txt", cwd=project).stdout
        == hc("hash", "-p", "dist/one.dna.json", cwd=project).stdout
    )


def test_hash_properties_and_uuid_change_the_hash(blog_dna, tmp_path):
    base = hc("hash", "-p", str(blog_dna), cwd=tmp_path).stdout
    with_uuid = hc("hash", "-p", str(blog_dna), "-u", "other", cwd=tmp_path).stdout
    with_prop = hc("hash", "-p", str(blog_dna), "-x", "greeting=hi", cwd=tmp_path).stdout
    assert len({base, with_uuid, with_prop}) == 3
    bad = hc("hash", "-p", str(blog_dna), "-x", "no-equals-sign", cwd=tmp_path)
    assert bad.returncode == 1 and "Can't parse property: no-equals-sign" in bad.stderr


def test_package_refuses_two_json_files_and_bad_properties(tmp_path):
    assert hc("init", "p", cwd=tmp_path).returncode == 0
    (tmp_path / "p" / "other.json").write_text("{}")
    done = hc("package", cwd=tmp_path / "p")
    assert done.returncode == 1 and "Multiple files with extension .json" in done.stderr
    (tmp_path / "p" / "other.json").unlink()
    done = hc("package", "-p", "{not json", cwd=tmp_path / "p")
    assert done.returncode == 1 and "Failed to parse properties argument as JSON" in done.stderr


def test_package_reports_a_zome_that_does_not_import(tmp_path):
    assert hc("init", "p", cwd=tmp_path).returncode == 0
    assert hc("generate", "zomes/z", cwd=tmp_path / "p").returncode == 0
    (tmp_path / "p" / "zomes" / "z" / "code" / "__init__.py").write_text("import nonexistent_module_xyz\n")
    done = hc("package", cwd=tmp_path / "p")
    assert done.returncode == 1
    assert "zome 'z' failed to import: ModuleNotFoundError" in done.stderr


def test_keygen_writes_an_encrypted_keystore(tmp_path):
    done = hc("keygen", "--nullpass", "--quiet", "--path", str(tmp_path / "key.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    address, path = done.stdout.split()
    assert address.startswith("HcS") and len(address) == 63
    text = Path(path).read_text()
    keystore = Keystore.load(Path(path), NULL_PASSPHRASE)
    assert keystore.public_address == address
    assert keystore.root_seed.hex() not in text
    with pytest.raises(KeystoreFileError, match="wrong passphrase"):
        Keystore.load(Path(path), "not the passphrase")


def test_keygen_asks_twice_and_refuses_a_mismatch(tmp_path):
    done = hc("keygen", "--path", str(tmp_path / "k"), cwd=tmp_path, input="one\ntwo\n")
    assert done.returncode == 1 and "do not match" in done.stderr
    assert not (tmp_path / "k").exists()


def test_holochain_version_and_help(tmp_path):
    version = subprocess.run([HOLOCHAIN, "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("holochain 0.0.52-alpha2")
    help_ = subprocess.run([HOLOCHAIN, "--help"], capture_output=True, text=True, timeout=30)
    assert "--config" in help_.stdout


def test_holochain_runs_a_config_and_prints_the_markers(blog_dna, tmp_path, spawn):
    from holochain.core.dna import Dna

    dna_hash = Dna.from_text(blog_dna.read_bytes()).address
    config = tmp_path / "conductor-config.toml"
    config.write_text(f"""
persistence_dir = "{tmp_path / "data"}"
[[agents]]
id = "alice"
name = "alice::app"
public_address = "[SHOULD BE REWRITTEN]"
keystore_file = "[UNUSED]"
test_agent = true
[[dnas]]
id = "blog"
file = "{blog_dna}"
hash = "{dna_hash}"
[[instances]]
id = "app"
dna = "blog"
agent = "alice"
[instances.storage]
type = "lmdb"
path = "{tmp_path / "data" / "app"}"
[[interfaces]]
id = "tryorama-interface"
admin = true
choose_free_port = true
[interfaces.driver]
type = "websocket"
port = 33_000
[[interfaces.instances]]
id = "app"
""")
    conductor = spawn([HOLOCHAIN, "-c", str(config)], tmp_path, ready="*** Done. All interfaces started.")
    lines = [l.rstrip("\n") for l in conductor.stdout_lines]
    bound = [i for i, l in enumerate(lines) if l.startswith("*** Bound interface 'tryorama-interface' to port: ")]
    assert bound and lines.index("*** Done. All interfaces started.") > bound[0]
    assert conductor.stop() == 0


def test_holochain_bad_config_names_the_key(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[agents]]\nid = "a"\nname = "a"\nkeystore_file = "x"\n')
    done = subprocess.run([HOLOCHAIN, "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "agents[0]: missing key `public_address`" in done.stderr
