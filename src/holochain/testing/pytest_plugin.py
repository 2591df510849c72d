"""The ``scenario`` pytest fixture: a :class:`~holochain.testing.Scenario` per test.

Loaded automatically through the ``pytest11`` entry point.  The scenario's
players are killed when the test ends, whatever happened::

    async def test_something(scenario):
        alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(dna_path)}))

The fixture is async: it needs ``pytest-asyncio`` (``pip install
holochain-py[test]``); without it, using the fixture says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .scenario import Scenario

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without the test extras
    pytest_asyncio = None  # type: ignore[assignment]


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def scenario(tmp_path: Any) -> AsyncIterator[Scenario]:
        s = Scenario(tmp_path / "scenario")
        try:
            yield s
        finally:
            await s.close()

else:  # pragma: no cover

    @pytest.fixture
    def scenario() -> None:
        raise pytest.UsageError("the `scenario` fixture needs pytest-asyncio: pip install pytest-asyncio")
