"""The Python HDK: what a zome imports to define itself and talk to the conductor.

``from holochain import hdk`` gives:

* :class:`Zome` and its decorators (entry types, links, functions, callbacks);
* the zome API functions (``hdk.commit_entry``, ``hdk.get_links`` …), one per
  Rust HDK function, with the same inputs, outputs and errors;
* the globals of the running call, read as attributes at call time:
  ``hdk.AGENT_ADDRESS``, ``hdk.AGENT_ID_STR``, ``hdk.AGENT_INITIAL_HASH``,
  ``hdk.AGENT_LATEST_HASH``, ``hdk.DNA_ADDRESS``, ``hdk.DNA_NAME``,
  ``hdk.PUBLIC_TOKEN``, ``hdk.CAPABILITY_REQ``, ``hdk.PROPERTIES``.
  (Write ``hdk.AGENT_ADDRESS`` inside a function; ``from holochain.hdk import
  AGENT_ADDRESS`` at import time would run outside any call.)
"""

from __future__ import annotations

from typing import Any

from ..core.entry import Entry
from ..core.errors import ZomeApiError
from . import functions as _functions
from .functions import *  # noqa: F403  (the zome API, listed in functions.__all__)
from .host import OutsideZomeCall, ZomeHost, current_host
from .zome import InitError, ValidationError, Zome, to_json_value

THIS_INSTANCE = "__hdk_this_instance"

GLOBALS = (
    "AGENT_ADDRESS",
    "AGENT_ID_STR",
    "AGENT_INITIAL_HASH",
    "AGENT_LATEST_HASH",
    "DNA_ADDRESS",
    "DNA_NAME",
    "PUBLIC_TOKEN",
    "CAPABILITY_REQ",
    "PROPERTIES",
)

__all__ = [
    "Zome",
    "Entry",
    "ZomeApiError",
    "ValidationError",
    "InitError",
    "to_json_value",
    "current_host",
    "ZomeHost",
    "OutsideZomeCall",
    "THIS_INSTANCE",
    *_functions.__all__,
]


def __getattr__(name: str) -> Any:
    if name in GLOBALS:
        return current_host().global_value(name)
    raise AttributeError(f"module 'holochain.hdk' has no attribute {name!r}")
