"""Consistency signals: what tryorama's waiter (hachiko) counts, in holochain-rust's shapes.

holochain-rust (``crates/core/src/consistency.rs``) announces each committed
public entry as ``{"Publish": address}`` with *pending* events for the
``Validators`` group — ``{"Hold": address}`` and, by kind,
``{"UpdateEntry": [old, new]}``, ``{"RemoveEntry": [old, new]}``,
``{"AddLink": link_data}`` or ``{"RemoveLink": address}`` — and every node
that holds an aspect emits the matching event.  The waiter resolves a
pending event once every node of the DNA's network has emitted it.

Here the author announces at commit, during the zome call (so the wait that
follows the call sees it), and emits its own hold at once (it holds what it
commits); holders emit theirs when an op is integrated, however it arrived
(published, or fetched by gossip).  Only an instance on a shared network in
which every node holds everything announces publishes: otherwise no set of
nodes would ever emit every pending event (see :attr:`Network.full_sync`).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..core.dht_ops import NEVER_PUBLISHED, DhtOp
from ..core.entry import Entry
from ..core.header import ChainHeader

__all__ = ["publish_signals", "hold_signal"]


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _signal(event: Any, pending: list[Any]) -> dict[str, Any]:
    return {
        "signal_type": "Consistency",
        "event": _text(event),
        "pending": [{"event": _text(p), "group": "Validators"} for p in pending],
    }


def _meta_event(entry: Entry, header: ChainHeader) -> Any:
    crud = header.link_update_delete
    if entry.variant == "App" and crud is not None:
        return {"UpdateEntry": [crud, entry.address]}
    if entry.variant == "Deletion" and crud is not None:
        return {"RemoveEntry": [crud, entry.address]}
    if entry.variant == "LinkAdd":
        return {"AddLink": entry.value["LinkAdd"]}
    if entry.variant == "LinkRemove":
        return {"RemoveLink": entry.address}
    return None


def publish_signals(entry: Entry, header: ChainHeader, public: bool) -> list[dict[str, Any]]:
    """At the author, on commit: ``Publish`` with its pending events, then the author's own holds."""
    if entry.variant in NEVER_PUBLISHED or entry.variant == "ChainHeader" or (entry.is_app and not public):
        return []
    hold = {"Hold": entry.address}
    meta = _meta_event(entry, header)
    pending = [hold] if meta is None else [hold, meta]
    return [_signal({"Publish": entry.address}, pending)] + [_signal(event, []) for event in pending]


def hold_signal(op: DhtOp) -> dict[str, Any] | None:
    """At a holder, once ``op`` is integrated: the event it satisfies."""
    entry, header = op.entry, op.header
    if op.kind == "Content":
        return None if entry.variant == "ChainHeader" else _signal({"Hold": entry.address}, [])
    if op.kind in ("Update", "Deletion"):
        event = _meta_event(entry, header)
        return None if event is None else _signal(event, [])
    if op.kind == "LinkAdd":
        return _signal({"AddLink": entry.value["LinkAdd"]}, [])
    return _signal({"RemoveLink": entry.address}, [])
