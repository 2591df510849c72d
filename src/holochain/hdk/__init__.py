"""The Python HDK: what a zome imports to define itself and talk to the conductor.

``from holochain import hdk`` gives:

* :class:`Zome` and its decorators (entry types, functions, callbacks);
* the zome API functions (``hdk.commit_entry``, ``hdk.get_entry`` …);
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
from .api import (
    EntryValidation,
    GetEntryOptions,
    ValidationData,
    app_entry,
    commit_entry,
    commit_entry_result,
    debug,
    entry_address,
    get_entry,
    get_entry_history,
    get_entry_initial,
    get_entry_result,
    property,
)
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
    "EntryValidation",
    "ValidationData",
    "GetEntryOptions",
    "app_entry",
    "commit_entry",
    "commit_entry_result",
    "get_entry",
    "get_entry_initial",
    "get_entry_history",
    "get_entry_result",
    "entry_address",
    "debug",
    "property",
    "to_json_value",
    "current_host",
    "ZomeHost",
    "OutsideZomeCall",
    "THIS_INSTANCE",
]


def __getattr__(name: str) -> Any:
    if name in GLOBALS:
        return current_host().global_value(name)
    raise AttributeError(f"module 'holochain.hdk' has no attribute {name!r}")
