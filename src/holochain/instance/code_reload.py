"""Swapping an instance's zome code while it runs (``hc run --watch``).

The new code is loaded first, so code that does not load raises
:class:`~holochain.ribosome.ZomeCodeError` with the old code still in place.
The instance keeps the DNA address its chain began with (its Dna entry, its
network space): new code gives a new DNA hash, and a new hash would mean a
new chain.  When the public functions changed, a new public grant listing
them is committed (the newest public grant is the one calls use, now and
after a restart).  Calls already running finish with the code they started
with.
"""

from __future__ import annotations

from ..core.dna import Dna
from ..ribosome.ribosome import Ribosome
from .genesis import commit_public_grant
from .instance import Instance

__all__ = ["reload_code"]


async def reload_code(instance: Instance, dna: Dna) -> None:
    """Run ``dna``'s zome code in ``instance`` from now on, keeping its chain, shard and network."""
    ribosome = Ribosome(dna)
    ws = instance.ws
    instance.dna = ws.dna = instance.shard.dna = instance.validation.dna = dna
    ws.ribosome = instance.validation.ribosome = ribosome
    instance.calls.dna_changed()
    instance.authoring.dna_changed()
    public = dna.public_functions()
    if frozenset((z, fn) for z, fns in public.items() for fn in fns) != ws.public_functions:
        await commit_public_grant(ws, instance.authoring, public)  # appending it makes it the public grant
        instance.publisher.poke()
