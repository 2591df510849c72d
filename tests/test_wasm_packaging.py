"""`hc package` for WebAssembly zomes: .hcbuild steps, ready .wasm files, definitions from the wasm.

The fixture projects under wasm/ are real hc projects whose zomes are Rust built with
Debian's rustc (`make wasm`, part of `make setup`); packaging them here runs their .hcbuild
(cargo, offline, incremental) and reads each zome's definition from its
`__hdk_get_json_definition` export.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
import wasmtime

from conftest import HC, REPO

# packaging runs cargo (a no-op after `make wasm`, but slow on a loaded machine)
pytestmark = pytest.mark.timeout(600)

WASM = REPO / "wasm"
API_TEST = WASM / "api_test"


def hc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HC, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def package(project: Path, output: Path) -> dict:
    done = hc("package", "--output", str(output), cwd=project)
    assert done.returncode == 0, done.stderr
    return json.loads(output.read_text(encoding="utf-8"))


def dna_hash(path: Path) -> str:
    done = hc("hash", "-p", str(path), cwd=path.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().rsplit(" ", 1)[-1]


@pytest.fixture(scope="module")
def api_test_dna(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("api_test") / "api_test.dna.json"
    return out, package(API_TEST, out)


def zome_code(dna: dict, zome: str) -> bytes:
    return base64.b64decode(dna["zomes"][zome]["code"]["code"])


def test_hcbuild_zome_is_built_embedded_and_described_by_its_wasm(api_test_dna):
    path, dna = api_test_dna
    zome = dna["zomes"]["api"]
    code = zome_code(dna, "api")
    assert code.startswith(b"\x00asm")
    # the zome.json keys stay, the wasm's definition is merged in
    assert zome["description"].startswith("Every host function")
    assert zome["bridges"][0]["handle"] == "test-bridge"
    assert zome["entry_types"]["note"] == {
        "properties": "a public note",
        "sharing": "public",
        "links_to": [{"target_type": "note", "link_type": "related"}],
        "linked_from": [
            {"base_type": "%agent_id", "link_type": "authored_notes"},
            {"base_type": "%agent_id", "link_type": "any_notes"},
        ],
    }
    commit_note = next(f for f in zome["fn_declarations"] if f["name"] == "commit_note")
    assert commit_note == {
        "name": "commit_note",
        "inputs": [{"type": "String", "name": "content"}],
        "outputs": [{"type": "ZomeApiResult<Address>", "name": "result"}],
    }
    assert "commit_note" in zome["traits"]["hc_public"]["functions"]
    # the module really is an HDK-style zome: every host import of HDK 0.0.52, the callbacks
    module = wasmtime.Module(wasmtime.Engine(), code)
    imports = {i.name for i in module.imports if i.module == "env"}
    assert {"hc_init_globals", "hc_commit_entry", "hc_get_links_count", "hc_emit_signal", "hc_meta"} <= imports
    assert len(imports) == 28
    exports = {e.name for e in module.exports}
    assert {
        "memory",
        "init",
        "__hdk_validate_app_entry",
        "__hdk_validate_agent_entry",
        "__hdk_validate_link",
        "__hdk_get_validation_package_for_entry_type",
        "__hdk_get_validation_package_for_link",
        "__hdk_hdk_version",
        "__hdk_get_json_definition",
        "__install_panic_handler",
        "commit_note",
    } <= exports


def test_packaging_is_repeatable_and_hc_hash_agrees(api_test_dna, tmp_path):
    path, dna = api_test_dna
    again = package(API_TEST, tmp_path / "again.dna.json")
    assert again == dna
    assert dna_hash(path) == dna_hash(tmp_path / "again.dna.json")


def test_a_ready_wasm_is_packaged_directly(api_test_dna, tmp_path):
    _, dna = api_test_dna
    code = zome_code(dna, "api")
    project = tmp_path / "ready"
    (project / "zomes" / "inner" / "code").mkdir(parents=True)
    (project / "zomes" / "flat").mkdir(parents=True)
    (project / "app.json").write_text(json.dumps({"name": "ready", "uuid": "u"}))
    (project / "zomes" / "inner" / "zome.json").write_text(json.dumps({"description": "code dir with a .wasm"}))
    (project / "zomes" / "inner" / "code" / "api.wasm").write_bytes(code)
    (project / "zomes" / "flat" / "zome.json").write_text(json.dumps({"description": "a .wasm beside zome.json"}))
    (project / "zomes" / "flat" / "api.wasm").write_bytes(code)
    packaged = package(project, tmp_path / "ready.dna.json")
    for name in ("inner", "flat"):
        zome = packaged["zomes"][name]
        assert base64.b64decode(zome["code"]["code"]) == code
        for key in ("entry_types", "traits", "fn_declarations"):
            assert zome[key] == dna["zomes"]["api"][key]


def _project_with_build(tmp_path: Path, build: dict | str) -> Path:
    project = tmp_path / "p"
    code = project / "zomes" / "z" / "code"
    code.mkdir(parents=True)
    (project / "app.json").write_text(json.dumps({"name": "p"}))
    (project / "zomes" / "z" / "zome.json").write_text("{}")
    (code / ".hcbuild").write_text(build if isinstance(build, str) else json.dumps(build))
    return project


def test_build_steps_run_in_the_code_dir_with_bash_and_expand_the_artifact(tmp_path, api_test_dna):
    _, dna = api_test_dna
    (tmp_path / "made.wasm").write_bytes(zome_code(dna, "api"))
    build = {
        "steps": [
            {"command": "OUT=built", "arguments": ["&&", "mkdir", "-p", "$OUT", "&&", "cp", "$SRC", "$OUT/z.wasm"]},
            {"command": "test", "arguments": ["-f", "built/z.wasm"]},
        ],
        "artifact": "${ARTIFACT_DIR:-built}/z.wasm",
    }
    project = _project_with_build(tmp_path, build)
    done = subprocess.run(
        [HC, "package", "--output", str(tmp_path / "p.dna.json")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SRC": str(tmp_path / "made.wasm")},
    )
    assert done.returncode == 0, done.stderr
    assert "> OUT=built && mkdir -p $OUT" in done.stdout
    packaged = json.loads((tmp_path / "p.dna.json").read_text())
    assert packaged["zomes"]["z"]["fn_declarations"] == dna["zomes"]["api"]["fn_declarations"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ({"steps": [{"command": "false", "arguments": []}], "artifact": "x.wasm"}, "build step `false` in"),
        ({"steps": [], "artifact": "nothing/here.wasm"}, "either doesn't point to a file or doesn't exist"),
        (
            {"steps": [{"command": "cargo"}], "artifact": "x.wasm"},
            'step 0 needs a "command" string and an "arguments" list',
        ),
        ({"steps": []}, 'needs an "artifact"'),
        ("{not json", "is not a readable JSON build file"),
    ],
)
def test_bad_builds_get_a_clear_error(tmp_path, build, message):
    project = _project_with_build(tmp_path, build)
    done = hc("package", cwd=project)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("wat", "message"),
    [
        ('(module (memory (export "memory") 1))', "does not export `memory` and `__hdk_get_json_definition`"),
        (
            '(module (memory (export "memory") 1) (func (export "__hdk_get_json_definition") (param i64) (result i64) unreachable))',
            "__hdk_get_json_definition trapped",
        ),
        (
            '(module (memory (export "memory") 1) (func (export "__hdk_get_json_definition") (param i64) (result i64) i64.const 0x500000000))',
            "returned failure code 5",
        ),
        (
            '(module (memory (export "memory") 1) (data (i32.const 16) "[1]")'
            ' (func (export "__hdk_get_json_definition") (param i64) (result i64) i64.const 0x1000000003))',
            "returned list, not an object",
        ),
        (
            '(module (import "env" "hc_nonexistent" (func (param i64) (result i64))) (memory (export "memory") 1)'
            ' (func (export "__hdk_get_json_definition") (param i64) (result i64) (call 0 (i64.const 0))))',
            "__hdk_get_json_definition trapped",
        ),
    ],
)
def test_a_wasm_without_a_usable_definition_is_refused(tmp_path, wat, message):
    project = tmp_path / "p"
    (project / "zomes" / "z").mkdir(parents=True)
    (project / "app.json").write_text(json.dumps({"name": "p"}))
    (project / "zomes" / "z" / "z.wasm").write_bytes(wasmtime.wat2wasm(wat))
    done = hc("package", cwd=project)
    assert done.returncode == 1
    assert "zome 'z'" in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr


def test_fixture_projects_are_sources_only():
    """Nothing built is committed: the fixture tree holds sources, build output is ignored."""
    tracked = subprocess.run(["git", "ls-files", "wasm"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert tracked, "wasm/ sources are committed"
    assert not [p for p in tracked if p.endswith((".wasm", ".dna.json")) or p.startswith("wasm/target/")]
    ignored = subprocess.run(
        ["git", "check-ignore", "wasm/target/x", "wasm/build/x"], cwd=REPO, capture_output=True, text=True
    )
    assert ignored.stdout.split() == ["wasm/target/x", "wasm/build/x"]


APP_SPEC = WASM / "app_spec"
PY_APP_SPEC = REPO / "examples" / "app_spec"


@pytest.fixture(scope="module")
def app_spec_twins(tmp_path_factory) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp("app_spec")
    return package(APP_SPEC, out / "wasm.dna.json"), package(PY_APP_SPEC, out / "python.dna.json")


def assert_twins(wasm: dict, python: dict) -> None:
    """Same zomes, entry and link types, functions (and parameter names), traits and DNA fields."""
    assert set(wasm["zomes"]) == set(python["zomes"])
    for name, pz in python["zomes"].items():
        wz = wasm["zomes"][name]
        assert base64.b64decode(wz["code"]["code"]).startswith(b"\x00asm")
        assert wz["entry_types"] == pz["entry_types"], name
        assert {k: sorted(v["functions"]) for k, v in wz["traits"].items()} == {
            k: sorted(v["functions"]) for k, v in pz["traits"].items()
        }, name
        params = {f["name"]: [i["name"] for i in f["inputs"]] for f in pz["fn_declarations"]}
        assert {f["name"]: [i["name"] for i in f["inputs"]] for f in wz["fn_declarations"]} == params, name
        assert wz["description"] == pz["description"]
        assert wz.get("bridges") == pz.get("bridges")
    for key in set(python) - {"zomes"}:
        assert wasm[key] == python[key], key


def test_the_wasm_blog_declares_what_the_python_blog_declares(tmp_path):
    assert_twins(
        package(WASM / "blog", tmp_path / "wasm.dna.json"),
        package(REPO / "examples" / "blog", tmp_path / "python.dna.json"),
    )


def test_the_wasm_app_spec_declares_what_the_python_port_declares(app_spec_twins):
    wasm, python = app_spec_twins
    assert set(python["zomes"]) == {"blog", "converse", "simple", "summer"}
    assert_twins(wasm, python)
    # the Rust declarations name Rust types, as HDK-built zomes do
    blog = {f["name"]: f for f in wasm["zomes"]["blog"]["fn_declarations"]}
    assert blog["create_post"]["inputs"] == [
        {"type": "String", "name": "content"},
        {"type": "Option<Address>", "name": "in_reply_to"},
    ]
    assert blog["get_post"]["outputs"] == [{"type": "ZomeApiResult<Option<Entry>>", "name": "result"}]


def test_the_api_test_zome_declares_every_host_function_it_exercises(api_test_dna):
    _, dna = api_test_dna
    zome = dna["zomes"]["api"]
    names = {f["name"] for f in zome["fn_declarations"]}
    assert {
        "commit_note", "update_note", "remove_note", "get_result", "addresses", "link", "unlink", "links",
        "links_count", "links_v42", "links_count_v42", "query_result", "call", "send_message", "emit", "sleep_ms", "debug_message", "sign",
        "sign_one_time", "verify", "encrypt", "decrypt", "keystore_list", "keystore_new_random",
        "keystore_derive_seed", "keystore_derive_key", "keystore_sign", "keystore_get_public_key", "grant",
        "claim", "meta", "globals", "property", "panic", "spin", "allocate", "big_output", "bad_output",
    } <= names  # fmt: skip
    assert set(zome["entry_types"]) == {"note", "private_note", "chain_note", "custom_note"}
    assert zome["entry_types"]["private_note"]["sharing"] == "private"
    assert zome["entry_types"]["note"]["links_to"] == [{"target_type": "note", "link_type": "related"}]
    assert zome["traits"]["restricted"] == {"functions": ["whoami"]}
    assert set(zome["traits"]["hc_public"]["functions"]) == names - {"whoami"}


def test_the_old_hdk_zomes_have_their_generations_exports(tmp_path):
    dna = package(WASM / "old_hdks", tmp_path / "old_hdks.dna.json")
    lifecycle = {"init", "genesis", "__hdk_hdk_version", "__hdk_git_hash", "__hdk_validate_agent_entry"}
    engine = wasmtime.Engine()
    exports = {
        name: {e.name for e in wasmtime.Module(engine, zome_code(dna, name)).exports} & lifecycle
        for name in dna["zomes"]
    }
    assert exports == {
        "genesis": {"genesis", "__hdk_git_hash"},
        "git_hash": {"init", "__hdk_git_hash", "__hdk_validate_agent_entry"},
        "mismatch": {"init", "__hdk_hdk_version", "__hdk_validate_agent_entry"},
    }
    assert dna["properties"] is None
