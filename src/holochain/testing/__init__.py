"""Testing DNAs: scenarios with several players sharing a DHT, in one process.

``from holochain.testing import Scenario, PlayerConfig, DnaSpec`` — or, under
pytest, the ``scenario`` fixture (:mod:`.pytest_plugin`, loaded
automatically once ``holochain-py`` is installed).
"""

from __future__ import annotations

import os
from pathlib import Path

from .scenario import CallFailed, DnaSpec, InstanceInfo, Player, PlayerConfig, Scenario

__all__ = ["Scenario", "Player", "PlayerConfig", "DnaSpec", "InstanceInfo", "CallFailed", "package_dna"]


def package_dna(project: str | os.PathLike[str], output: str | os.PathLike[str] | None = None) -> Path:
    """Package a DNA project directory (as ``hc package``); returns the ``.dna.json`` path."""
    from ..ribosome.packager import package_project, write_package

    project_path = Path(project)
    tree, _ = package_project(project_path)
    out = Path(output) if output else project_path / "dist" / f"{project_path.resolve().name}.dna.json"
    write_package(tree, out)
    return out
