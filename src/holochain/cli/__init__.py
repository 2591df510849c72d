"""cli: the ``hc`` (:mod:`.hc`: init, package, keygen, run…) and ``holochain``
(:mod:`.holochain`: the production conductor) commands.

Both report a configuration they cannot run as
``Error while trying to boot from config: …`` with exit status 2
(:func:`.runtime.boot_failed`).  Nothing is imported here, so starting a
command loads only what it uses.
"""

__all__: list[str] = []
