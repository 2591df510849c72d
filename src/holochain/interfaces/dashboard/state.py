"""What the dashboard shows, as JSON-ready dicts, read from a running conductor.

Every function here only reads, through the conductor's, instances' and
nodes' public attributes and methods (the state a conductor already keeps):
nothing is computed on the hot path for the dashboard's sake, and a view is
built only while a dashboard page is open.  Everything is bounded: a chain
page is at most :data:`MAX_PAGE` records read from a given position (never
the whole chain), entries are cut at :data:`MAX_ENTRY_CHARS`, the ring shows
at most :data:`MAX_MEMBERS` agents and :data:`MAX_OPS` ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import __version__
from ...core import json as cjson
from ...instance.instance import Instance
from ...net.location import RING, holding_arcs, location
from ...storage.base import StorageError

if TYPE_CHECKING:
    from ..service import ConductorService

__all__ = ["overview", "chain_page", "dht_view", "network_view", "MAX_PAGE", "MAX_ENTRY_CHARS"]

MAX_PAGE = 100
MAX_ENTRY_CHARS = 8192
MAX_MEMBERS = 64
MAX_OPS = 200
_KEPT_SHOWN = 20


def overview(service: ConductorService, started: float) -> dict[str, Any]:
    """The conductor: instances (running or not), DNAs, agents, interfaces, UI interfaces, bridges."""
    conductor = service.conductor
    config = conductor.config
    instances = []
    for inst in config.instances:
        running = conductor.instances.get(inst.id)
        agent = config.agent(inst.agent)
        instances.append(
            {
                "id": inst.id,
                "dna": inst.dna,
                "agent": inst.agent,
                "agent_address": running.agent.address if running else (agent.public_address if agent else ""),
                "dna_address": running.dna_address if running else "",
                "status": "running" if running and running.active else ("stopped" if running else "not created"),
                "storage": inst.storage.type,
                "chain_length": running.chain.length if running else None,
                "calls_in_flight": conductor.running_calls.get(inst.id, 0),
            }
        )
    dnas = []
    for dna in config.dnas:
        loaded = conductor.dnas.get(dna.id)
        dnas.append(
            {
                "id": dna.id,
                "file": dna.file,
                "hash": dna.hash,
                "name": loaded.name if loaded else None,
                "zomes": sorted(loaded.zomes) if loaded else [],
            }
        )
    interfaces = []
    for iface in config.interfaces:
        port = service.port_of(iface.id)
        interfaces.append(
            {
                "id": iface.id,
                "type": iface.kind,
                "port": port,
                "admin": iface.admin,
                "running": port is not None,
                "instances": [ref.id for ref in iface.instances],
                "connections": service.connection_count(iface.id),
            }
        )
    return {
        "version": __version__,
        "started": started,
        "instances": instances,
        "dnas": dnas,
        "agents": [
            {"id": a.id, "name": a.name, "public_address": a.public_address, "test_agent": bool(a.test_agent)}
            for a in config.agents
        ],
        "interfaces": interfaces,
        "ui_interfaces": [
            {
                "id": u.id,
                "bundle": u.bundle,
                "port": u.port,
                "bind_address": u.bind_address,
                "dna_interface": u.dna_interface,
                "running": u.id in service.ui_servers,
            }
            for u in config.ui_interfaces
        ],
        "bridges": [{"caller": b.caller_id, "callee": b.callee_id, "handle": b.handle} for b in config.bridges],
    }


def _json_or_text(text: str | None) -> tuple[Any, bool]:
    """An entry's JSON (parsed), or its text cut to :data:`MAX_ENTRY_CHARS`; and whether it was cut."""
    if text is None:
        return None, False
    if len(text) > MAX_ENTRY_CHARS:
        return text[:MAX_ENTRY_CHARS], True
    try:
        return cjson.loads(text), False
    except ValueError:
        return text, False


def chain_page(instance: Instance, before: int | None, limit: int) -> dict[str, Any]:
    """Records ``before - 1`` down to ``before - limit``, newest first (``before`` None: from the head).

    Reads only the records of the page, one by one from the position asked
    for, so a page of a 100,000-record chain costs what a page of a short one does.
    """
    length = instance.chain.length
    limit = max(1, min(int(limit), MAX_PAGE))
    end = length if before is None else max(0, min(int(before), length))
    store = instance.store
    records = []
    for seq in range(end - 1, max(-1, end - 1 - limit), -1):
        row = store.chain_row(seq)
        if row is None:
            continue
        entry, cut = _json_or_text(store.get_content(row.entry_address))
        records.append(
            {
                "seq": seq,
                "header_address": row.header_address,
                "header": cjson.loads(row.header),
                "entry_address": row.entry_address,
                "entry_type": row.entry_type,
                "entry": entry,
                "entry_cut": cut,
            }
        )
    return {"instance": instance.instance_id, "length": length, "before": end, "records": records}


def _arcs_for_display(arcs: list[tuple[int, int]]) -> list[list[float]]:
    """Arcs as fractions of the ring: ``[[start, end], …]`` with 0 ≤ start < end ≤ 1."""
    return [[lo / RING, hi / RING] for lo, hi in arcs]


def dht_view(service: ConductorService, instance: Instance) -> dict[str, Any] | None:
    """The ring of the instance's space: agents with locations, arcs and op counts; ops with holders."""
    node = instance.node
    if node is None or node.closed:
        return None
    members = sorted(node.members(), key=location)[:MAX_MEMBERS]
    redundancy = node.network.redundancy
    arcs = holding_arcs(members, redundancy)
    local = {
        inst.agent.address: inst
        for inst in service.conductor.instances.values()
        if inst.node is not None and inst.dna_address == instance.dna_address
    }
    full = redundancy <= 0 or redundancy >= len(members)
    known = len(node.index)
    agents = []
    for agent in members:
        here = local.get(agent)
        if here is not None and here.node is not None:
            ops, exact = len(here.node.index), True
        else:  # of the ops we know, those in its arc (what it should hold)
            ops, exact = (known if full else node.index.count_in(arcs.get(agent, []))), False
        agents.append(
            {
                "agent": agent,
                "location": location(agent) / RING,
                "arcs": _arcs_for_display(arcs.get(agent, [])),
                "ops": ops,
                "exact": exact,
                "local": here is not None,
                "instance": here.instance_id if here is not None else None,
                "me": agent == node.agent,
            }
        )
    shown: list[dict[str, Any]] = []
    for op_hash, loc, author in node.index.sample(MAX_OPS):
        holders = sorted(members, key=lambda a: ((loc - location(a)) % RING, a))
        if not full:
            holders = holders[:redundancy]
        shown.append({"op": op_hash, "location": loc / RING, "author": author, "holders": holders})
    return {
        "instance": instance.instance_id,
        "space": node.space,
        "agent": node.agent,
        "redundancy": redundancy,
        "full_sync": full,
        "members": len(node.members()),
        "agents": agents,
        "ops_known": known,
        "ops": shown,
    }


def _relay(switchboard: Any) -> dict[str, Any]:
    connected = getattr(switchboard, "connected", None)
    server = getattr(switchboard, "server", None)
    return {
        "kind": type(switchboard).__name__.replace("Switchboard", "").lower() or "memory",
        "connected": True if connected is None else bool(connected),
        "server": server if isinstance(server, str) else None,
    }


def network_view(service: ConductorService) -> list[dict[str, Any]]:
    """Per instance: its network and relay, peers, gossip, publish queues, last errors."""
    out = []
    for instance_id, instance in service.conductor.instances.items():
        network = instance.network
        node = instance.node
        item: dict[str, Any] = {
            "instance": instance_id,
            "network": network.name,
            "private": network.is_private,
            "relay": _relay(network.switchboard),
            "redundancy": network.redundancy,
            "gossip_interval": network.gossip_interval,
        }
        try:
            item["held_entries"], item["held_aspects"] = instance.store.held_counts()
        except StorageError:
            item["held_entries"] = item["held_aspects"] = None
        if node is None or node.closed:
            item.update(joined=False, peers=[], gossip={}, queues={}, errors=[])
        else:
            outboxes = node.outbox_sizes()
            item.update(
                joined=True,
                agent=node.agent,
                peers=sorted(node.others()),
                gossip={
                    "rounds": node.gossip_rounds,
                    "fetched": node.gossip_fetched,
                    "pushed": node.gossip_pushed,
                    "recent": list(node.recent_rounds)[-_KEPT_SHOWN:][::-1],
                },
                queues={
                    "outboxes": outboxes,
                    "queued_ops": sum(outboxes.values()),
                    "unpublished_records": max(0, instance.chain.length - instance.publisher.cursor),
                },
                busy=node.describe_work() if node.busy else None,
                errors=[{"at": at, "what": what} for at, what in list(node.recent_errors)[-_KEPT_SHOWN:][::-1]],
            )
        out.append(item)
    return out
