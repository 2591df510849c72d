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
from ..core.entry import Entry
from ..ribosome.ribosome import Ribosome
from ..storage.base import WriteBatch
from .authoring import Authoring
from .instance import PUBLIC_GRANT_ID, Instance

__all__ = ["reload_code"]


async def reload_code(instance: Instance, dna: Dna) -> None:
    """Run ``dna``'s zome code in ``instance`` from now on, keeping its chain, shard and network."""
    ribosome = Ribosome(dna)
    instance.dna = instance.shard.dna = instance.validation.dna = dna
    instance.ribosome = instance.validation.ribosome = ribosome
    instance._declared = frozenset((zome, f["name"]) for zome, z in dna.zomes.items() for f in z["fn_declarations"])
    instance.authoring = Authoring(instance)
    public = dna.public_functions()
    if frozenset((z, fn) for z, fns in public.items() for fn in fns) != instance._public_functions:
        grant = Entry.cap_token_grant(PUBLIC_GRANT_ID, None, public)
        batch = WriteBatch()
        instance.authoring.append(grant, instance.chain.new_header(grant), batch)  # appending makes it the grant
        await instance.wait_durable(instance._write(batch))
        instance.publisher.poke()
