"""instance: one DNA run by one agent, as holochain's workflow steps over a workspace.

:class:`Instance` (:mod:`.instance`) wires the steps and carries the
lifecycle; :class:`Workspace` (:mod:`.workspace`) is what each step works
over.  The steps, one module each: :mod:`.genesis`,
:mod:`.initialize_zomes`, :mod:`.call_zome`, :mod:`.authoring` (commit),
:mod:`.publish_dht_ops`, :mod:`.incoming_dht_ops`, :mod:`.sys_validation`,
:mod:`.app_validation`, :mod:`.integrate_dht_ops`,
:mod:`.validation_receipt`, :mod:`.cascade` (get).  The state they share:
:mod:`.chain` (the source chain), :mod:`.shard` (the DHT shard held here).
"""

from .call_zome import InstanceError
from .chain import SourceChain
from .instance import THIS_INSTANCE, Instance
from .shard import Shard
from .workspace import Workspace

__all__ = ["Instance", "InstanceError", "Workspace", "SourceChain", "Shard", "THIS_INSTANCE"]
