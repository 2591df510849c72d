"""The ``genesis`` workflow: the first records of a new source chain.

A chain starts with the DNA, then the agent's ``AgentId``, then — if the DNA
declares public functions — the public capability grant (``hc_public``) that
lets anyone call them.  The three are appended (and held locally) in one
write, and genesis waits until it is durable: an instance never runs on a
chain whose genesis could still be lost.
"""

from __future__ import annotations

from ..core.entry import Entry
from ..storage.base import WriteBatch
from .authoring import Authoring
from .call_zome import InstanceError
from .workspace import PUBLIC_GRANT_ID, Workspace

__all__ = ["commit_public_grant", "genesis"]


async def genesis(ws: Workspace, authoring: Authoring) -> None:
    """Write the genesis records of ``ws``'s (empty) chain; raises :class:`InstanceError`."""
    if not ws.dna.zomes:
        raise InstanceError("Attempting to initialize DNA with zero zomes!")
    batch = WriteBatch()
    for entry in (
        Entry.dna(ws.dna.canonical),
        Entry.agent_id(ws.agent_nick, ws.agent.address),
    ):
        authoring.append(entry, ws.chain.new_header(entry), batch)
    public = ws.dna.public_functions()
    if public:
        _append_public_grant(ws, authoring, public, batch)
    await ws.wait_durable(ws.write(batch))


async def commit_public_grant(ws: Workspace, authoring: Authoring, public: dict[str, list[str]]) -> None:
    """Append a new public grant listing ``public`` (zome code reloaded with other public functions)."""
    batch = WriteBatch()
    _append_public_grant(ws, authoring, public, batch)
    await ws.wait_durable(ws.write(batch))


def _append_public_grant(ws: Workspace, authoring: Authoring, public: dict[str, list[str]], batch: WriteBatch) -> None:
    grant = Entry.cap_token_grant(PUBLIC_GRANT_ID, None, public)
    authoring.append(grant, ws.chain.new_header(grant), batch)
