"""Fixtures for the app_spec scenarios: the packaged DNA and tryorama's ``one``/``two`` configs.

``one`` runs the DNA as instance ``app``; ``two`` runs it as ``app1`` and, with
uuid ``altered-dna`` (another DNA hash), as ``app2``, bridged app1 → app2 as
``test-bridge`` (``app_spec/test/config.js``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from holochain.testing import DnaSpec, PlayerConfig, package_dna

REPO = Path(__file__).resolve().parents[1]

# addresses app_spec's JS scenarios assert
HOLO_WORLD_POST = "QmY6MfiuhHnQ1kg7RwNZJNUQhwDxTFL45AAPnpJMNPEoxk"
HOT_MEMO = "QmV8f47UiisfMYxqpTe7DA65eLJ9jqNvaeTNSVPC7ZVd4i"
ALICE = "HcSCIv3cPT5kegjoqgXM7nVU8rFbd9pyg5oOYUz9PSryp5mb7DKhCsXCS768pua"  # alice::app
BOB = "HcSCJCqoIY3uwiw34acyvNmJMyzkk4y9groHdYKBekqp7y48mvwfVTQQkzcjnfz"  # bob::app


WASM_APP_SPEC = REPO / "wasm" / "build" / "app_spec.dna.json"


def _python_app_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("app_spec") / "app_spec"
    shutil.copytree(REPO / "examples" / "app_spec", project, ignore=shutil.ignore_patterns("dist", ".hc"))
    return package_dna(project)


@pytest.fixture(scope="session")
def app_spec_dna(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``examples/app_spec`` packaged by ``hc package`` (into a temporary copy)."""
    return _python_app_spec(tmp_path_factory)


@pytest.fixture(scope="session", params=["python", "wasm"], name="app_spec_dna")
def app_spec_dna_both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """app_spec in both engines, for the modules that import this one (the app_spec scenarios):
    the Python port, and its Rust twin under ``wasm/app_spec`` built to WebAssembly by
    ``make wasm`` (which ``make test`` runs first; built here if it has not been)."""
    if request.param == "wasm":
        if not WASM_APP_SPEC.is_file():
            subprocess.run(["make", "wasm"], cwd=REPO, check=True, timeout=900)
        return WASM_APP_SPEC
    return _python_app_spec(tmp_path_factory)


@pytest.fixture
def one(app_spec_dna: Path) -> PlayerConfig:
    return PlayerConfig({"app": DnaSpec(app_spec_dna)})


@pytest.fixture
def two(app_spec_dna: Path) -> PlayerConfig:
    return PlayerConfig(
        {"app1": DnaSpec(app_spec_dna), "app2": DnaSpec(app_spec_dna, uuid="altered-dna")},
        bridges=[("app1", "app2", "test-bridge")],
    )


def post(content: str) -> dict:
    return {"content": content, "date_created": "now"}
