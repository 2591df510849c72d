"""`hc init` + `hc generate` + `hc test` from scratch, as real subprocesses."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import HC


def hc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HC, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


def new_project(tmp_path: Path, *zomes: str) -> Path:
    assert hc("init", "my_app", cwd=tmp_path).returncode == 0
    project = tmp_path / "my_app"
    for zome in zomes:
        done = hc("generate", f"zomes/{zome}", cwd=project)
        assert done.returncode == 0, done.stderr
        assert f"test/test_{zome}.py" in done.stdout
    return project


def test_a_new_project_passes_its_generated_tests(tmp_path):
    project = new_project(tmp_path)
    assert (project / "test" / "test_dna.py").is_file()
    done = hc("test", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Packaging files for testing to file: "dist/my_app.dna.json"' in done.stdout
    assert "1 passed" in done.stdout

    for zome in ("notes", "comments"):
        assert hc("generate", f"zomes/{zome}", cwd=project).returncode == 0
    done = hc("test", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout  # the DNA's test and two per zome, with two players each
    assert "warning" not in done.stdout.lower()


def test_a_broken_zome_fails_hc_test(tmp_path):
    project = new_project(tmp_path, "notes")
    code = project / "zomes" / "notes" / "code" / "__init__.py"
    source = code.read_text()
    code.write_text(source.replace("return hdk.commit_entry(entry)", "return hdk.commit_entry(MyEntry('changed'))"))
    done = hc("test", cwd=project)
    assert done.returncode == 1, done.stdout
    assert "FAILED test/test_notes.py::test_an_entry_alice_creates_is_seen_by_bob" in done.stdout
    assert "FAILED test/test_notes.py::test_an_empty_entry_is_refused" in done.stdout
    assert "2 failed, 1 passed" in done.stdout

    code.write_text(source + "\ndef broken(:\n")
    done = hc("test", cwd=project)
    assert done.returncode == 1
    assert "zome 'notes' failed to import: SyntaxError" in done.stderr
    assert "Running Python tests" not in done.stdout  # packaging failed: nothing ran


def test_skip_package_uses_the_dna_in_dist_and_pytest_arguments_pass_through(tmp_path):
    project = new_project(tmp_path, "notes")
    done = hc("test", "--skip-package", cwd=project)
    assert done.returncode == 1
    assert "dist/my_app.dna.json not found" in done.stderr
    assert hc("package", cwd=project).returncode == 0
    done = hc("test", "-s", "--", "-k", "empty", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Packaging" not in done.stdout
    assert "1 passed, 2 deselected" in done.stdout


def test_javascript_tests_run_with_node_and_their_status_counts(tmp_path):
    project = new_project(tmp_path)
    for name in ("conftest.py", "test_dna.py"):
        (project / "test" / name).unlink()
    script = project / "test" / "index.js"
    script.write_text(
        "const fs = require('fs')\n"
        "const dna = JSON.parse(fs.readFileSync(process.env.HC_DNA_PATH))\n"
        "console.log('js sees DNA', dna.name)\n"
        "process.exit(dna.name === process.argv[2] || dna.name === 'my_app' ? 0 : 3)\n"
    )
    done = hc("test", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Running tests in test/index.js" in done.stdout
    assert "js sees DNA my_app" in done.stdout

    script.write_text("console.log('failing'); process.exit(3)\n")
    assert hc("test", cwd=project).returncode == 3


def test_no_tests_and_no_test_folder_are_explained(tmp_path):
    project = new_project(tmp_path)
    for name in ("conftest.py", "test_dna.py"):
        (project / "test" / name).unlink()
    done = hc("test", cwd=project)
    assert done.returncode == 1
    assert "no tests in test/" in done.stderr
    done = hc("test", "--dir", "west", cwd=project)
    assert (done.returncode, done.stderr.strip()) == (1, "Error: Directory west does not exist")
