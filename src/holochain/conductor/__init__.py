"""conductor: hosts agents, DNAs and instances as a configuration describes.

:class:`Conductor` (:mod:`.conductor`) boots, routes zome calls and bridge
calls, turns what instances emit into signals, and carries out the admin
operations (:mod:`.admin`); :mod:`.config` reads and writes holochain-rust's
TOML configuration; :mod:`.keystore` and :mod:`.passphrase` unlock agent
keys; :mod:`.bridges` checks bridges; :mod:`.signals` shapes signal frames.
"""

from .conductor import Conductor, ConductorError, load_dna_file
from .config import ConfigError, Configuration
from .config_file import load_config

__all__ = ["Conductor", "ConductorError", "Configuration", "ConfigError", "load_config", "load_dna_file"]
