"""The messages between nodes: each kind, what its body holds, checked before it is acted on.

Beside :mod:`.wire` (the signed envelope around every message), one checker
per kind of request.  A body from the network is untrusted: a checker
returns the fields the node acts on, or raises ``ValueError``/``TypeError``
naming what is wrong (the node answers with an ``error`` envelope and keeps
serving).  Replies are read where they are awaited.

=====================  ===========================================  ==============================
kind                   body                                         reply
=====================  ===========================================  ==============================
``hold``               ``ops``: at most 200 ops                     ``results``: [hash, status]…
``receipt``            ``results``: [hash, status]…                 ``{}``
``get_entry``          ``address``                                  ``record`` or null
``get_links``          ``base``, ``query``                          ``answer`` or null
``direct``             ``zome``, ``payload``                        ``ok`` or ``err``
``validation_package`` ``header_address``                           ``package`` or null
``gossip_digest``      ``scope``, ``ranges``, ``slices``, [``sum``,   ``digests`` or ``same``,
                       ``peers`` or ``peers_sum``]                  [``peers``, ``infos``]
``gossip_list``        ``scope``, ``ranges``                        ``items``: [hash, author, loc]…
``gossip_fetch``       ``hashes``: at most 256                      ``ops``
``peer_infos``         ``infos``: agent records, [``want``: slices,  ``infos`` in the slices wanted
                       ``suspect``: agents to check]
``bootstrap``          ``info``, [``peers``] (to anyone)            ``infos``, [``peers``]
=====================  ===========================================  ==============================
"""

from __future__ import annotations

from typing import Any

from .gossip import SLICES, Scope, ScopeError
from .location import RING, Ranges
from .peers import INFO_SLICES

__all__ = ["KINDS", "OPS_PER_MESSAGE", "FETCH_LIMIT", "check"]

OPS_PER_MESSAGE = 200
FETCH_LIMIT = 256


def _str(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _ranges(body: dict[str, Any]) -> Ranges:
    ranges = body["ranges"]
    if (
        not isinstance(ranges, list)
        or len(ranges) > SLICES
        or not all(
            isinstance(r, list)
            and len(r) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in r)
            and 0 <= r[0] < r[1] <= RING
            for r in ranges
        )
    ):
        raise ValueError(f"ranges must be at most {SLICES} [lo, hi) pairs on the ring")
    return [(lo, hi) for lo, hi in ranges]


def _scope(body: dict[str, Any]) -> Scope:
    try:
        return Scope.from_json(body["scope"])
    except ScopeError as exc:
        raise ValueError(str(exc)) from None


def _hold(body: dict[str, Any]) -> dict[str, Any]:
    ops = body["ops"]
    if not isinstance(ops, list) or len(ops) > OPS_PER_MESSAGE:
        raise ValueError(f"ops must be a list of at most {OPS_PER_MESSAGE}")
    return {"ops": ops}


def _receipt(body: dict[str, Any]) -> dict[str, Any]:
    results = body["results"]
    if not isinstance(results, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(v, str) for v in r) for r in results
    ):
        raise TypeError("results must be [op hash, status] pairs")
    return {"results": results}


def _digest(body: dict[str, Any]) -> dict[str, Any]:
    slices = body["slices"]
    if not isinstance(slices, int) or not 1 <= slices <= SLICES:
        raise ValueError(f"slices must be 1 to {SLICES}")
    total = body.get("sum")
    if total is not None and not isinstance(total, str):
        raise TypeError("sum must be a string")
    return {"scope": _scope(body), "ranges": _ranges(body), "slices": slices, "sum": total}


def _fetch(body: dict[str, Any]) -> dict[str, Any]:
    hashes = body["hashes"]
    if not isinstance(hashes, list) or len(hashes) > FETCH_LIMIT or not all(isinstance(h, str) for h in hashes):
        raise ValueError(f"hashes must be a list of at most {FETCH_LIMIT} strings")
    return {"hashes": hashes}


def _links(body: dict[str, Any]) -> dict[str, Any]:
    query = body["query"]
    if not isinstance(query, dict):
        raise TypeError("get_links needs a base string and a query object")
    return {"base": _str(body, "base"), "query": query}


def _infos(body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body["infos"], list):
        raise TypeError("infos must be a list of agent records")
    want = body.get("want", [])
    if not isinstance(want, list) or not all(isinstance(i, int) and 0 <= i < INFO_SLICES for i in want):
        raise ValueError(f"want must list slices 0 to {INFO_SLICES - 1}")
    suspect = body.get("suspect", [])
    if not isinstance(suspect, list) or len(suspect) > 16 or not all(isinstance(a, str) for a in suspect):
        raise ValueError("suspect must list at most 16 agents")
    return {"infos": body["infos"], "want": want, "suspect": suspect}


KINDS: dict[str, Any] = {
    "hold": _hold,
    "receipt": _receipt,
    "get_entry": lambda b: {"address": _str(b, "address")},
    "get_links": _links,
    "direct": lambda b: {"zome": _str(b, "zome"), "payload": _str(b, "payload")},
    "validation_package": lambda b: {"header_address": _str(b, "header_address")},
    "gossip_digest": _digest,
    "gossip_list": lambda b: {"scope": _scope(b), "ranges": _ranges(b)},
    "gossip_fetch": _fetch,
    "peer_infos": _infos,
    "bootstrap": lambda b: {"info": b["info"], "peers": b.get("peers")},
}


def check(kind: str, body: Any) -> dict[str, Any]:
    """The checked fields of a request of ``kind``; raises on anything malformed."""
    checker = KINDS.get(kind)
    if checker is None:
        raise ValueError(f"unknown message kind {kind!r}")
    if not isinstance(body, dict):
        raise TypeError(f"the body of {kind} must be an object")
    return checker(body)
