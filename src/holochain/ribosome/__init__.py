"""ribosome: runs zome code — loading it, calling its functions and callbacks, and the host
functions it calls back.

:class:`Ribosome` (:mod:`.ribosome`) loads a DNA's zomes (:mod:`.python_zome`)
and runs them in greenlets (:mod:`.runner`) that can suspend for the
network.  :mod:`.host_api` is the zome-host interface both engines call:
:class:`HostCore` is what an instance provides, :class:`CallHost` the host
of one call, :data:`ZomeCallReply` what a zome call answers.
:mod:`.packager` builds ``.dna.json`` files from a project.
"""

from .host_api import CallHost, CallInfo, HostCore, ZomeCallReply
from .python_zome import ZomeCodeError
from .ribosome import Ribosome, ZomeFunctionFailure
from .runner import ZomeCallTimeout

__all__ = [
    "Ribosome",
    "HostCore",
    "CallHost",
    "CallInfo",
    "ZomeCallReply",
    "ZomeCodeError",
    "ZomeFunctionFailure",
    "ZomeCallTimeout",
]
