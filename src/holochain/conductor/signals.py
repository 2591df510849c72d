"""Signal frames in holochain-rust's shapes.

What an instance emits is a ``Signal`` (serde tag ``signal_type``): ``User``
(``{"name", "arguments": "<JSON text>"}``), ``Trace`` or ``Consistency``
(``{"event": "<JSON text>", "pending": [{"event", "group"}]}``).  Interfaces
send each as a bare JSON text frame wrapped in ``SignalWrapper`` (serde tag
``type``)::

    {"type":"InstanceSignal","signal":{…},"instance_id":"app"}
    {"type":"InstanceStats","instance_stats":{"app":{…}}}

Frames are serialized once here and sent as they are to every connection.

Consistency events are what tryorama's waiter (hachiko) counts: each signal
records that this node saw ``event`` and adds ``pending`` items the waiter
then waits for, ``Source`` ones from this node, ``Validators`` ones from every
node of the DNA's network.  The conductor announces every zome call as
``SignalZomeFunctionCall`` with a pending ``ReturnZomeFunctionResult`` (group
``Source``), and that return when the call ends, whatever its outcome.  An
instance on a shared network where everyone holds everything also announces
``Publish`` events with pending holds, which every holder satisfies
(:mod:`holochain.instance.consistency`); elsewhere it does not, since no set
of nodes would ever emit every pending event and the waiter would wait in vain.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

__all__ = ["Signal", "SignalKind", "consistency_signal", "instance_signal_frame", "stats_frame", "user_signal"]

Signal = dict[str, Any]
SignalKind = Literal["User", "Trace", "Consistency"]


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def user_signal(name: str, arguments_json: str) -> Signal:
    """``Signal::User``: ``arguments`` is the payload as JSON text."""
    return {"signal_type": "User", "name": name, "arguments": arguments_json}


def consistency_signal(event: Any, group: str | None, pending: list[Any]) -> Signal:
    """``Signal::Consistency`` with events serialized to JSON text, as holochain-rust sends them."""
    return {
        "signal_type": "Consistency",
        "event": _text(event),
        "pending": [{"event": _text(p), "group": group} for p in pending],
    }


def instance_signal_frame(instance_id: str, signal: Signal) -> bytes:
    return orjson.dumps({"type": "InstanceSignal", "signal": signal, "instance_id": instance_id})


def stats_frame(stats: dict[str, dict[str, Any]]) -> bytes:
    return orjson.dumps({"type": "InstanceStats", "instance_stats": stats})
