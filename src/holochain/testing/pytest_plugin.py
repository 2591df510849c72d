"""The ``scenario`` pytest fixture: a :class:`~holochain.testing.Scenario` per test.

Loaded automatically through the ``pytest11`` entry point.  The scenario's
players are killed when the test ends, whatever happened::

    async def test_something(scenario):
        alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(dna_path)}))
"""

from __future__ import annotations

from typing import AsyncIterator

import pytest_asyncio

from .scenario import Scenario


@pytest_asyncio.fixture
async def scenario(tmp_path) -> AsyncIterator[Scenario]:  # type: ignore[no-untyped-def]
    s = Scenario(tmp_path / "scenario")
    try:
        yield s
    finally:
        await s.close()
