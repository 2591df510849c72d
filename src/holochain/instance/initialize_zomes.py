"""The ``init`` workflow (holochain's ``initialize_zomes``): every zome's ``init`` callback, once.

It runs after genesis and after joining the network (``init`` may commit,
and what it commits is published like any commit).  If any zome's ``init``
returns an error the instance does not start; once all succeed a mark is
stored, so ``init`` does not run again on a later start.
"""

from __future__ import annotations

from ..ribosome import runner
from ..storage.base import WriteBatch
from .call_zome import InstanceError
from .workspace import Workspace

__all__ = ["initialize_zomes", "zomes_initialized"]

_INITIALIZED_KEY = "initialized"


def zomes_initialized(ws: Workspace) -> bool:
    """Whether ``init`` already succeeded on this chain."""
    return ws.store.kv_get(_INITIALIZED_KEY) is not None


async def initialize_zomes(ws: Workspace) -> None:
    """Run every zome's ``init`` (in name order); raises :class:`InstanceError` naming those that failed."""
    failures = []
    for zome in ws.ribosome.zome_names:
        host = ws.zome_host(zome)
        outcome = ws.ribosome.init(zome, host)
        if isinstance(outcome, runner.Pending):
            outcome = await outcome.future
        if outcome is not None:
            failures.append((zome, outcome))
    if failures:
        text = ", ".join(f'("{z}", "{m}")' for z, m in failures)
        raise InstanceError(f"At least one zome init returned error: [{text}]")
    # waiting for this ticket also covers everything init committed before it
    await ws.wait_durable(ws.write(WriteBatch(kv={_INITIALIZED_KEY: "1"})))
