"""A Python Holochain conductor, wire-compatible with holochain-rust 0.0.52.

* ``holochain.hdk`` — write zomes in Python;
* ``holochain.client`` — talk to a conductor from Python;
* the ``hc`` and ``holochain`` commands run DNAs and conductors.
"""

__version__ = "0.1.0"

# what `holochain --version` prints: the holochain-rust release we speak for
COMPATIBLE_VERSION = "0.0.52-alpha2"
