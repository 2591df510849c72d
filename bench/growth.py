"""Cost per call as data grows: the first 100 calls against 100 calls after N, in process.

    python -m bench.growth --store memory --n 100000 --out growth-memory.json
    python -m bench.growth --store sqlite --n 2000          # a quick look

Every figure is a ratio measured in one run: the cost of a call once the
data has grown by N calls, divided by the cost of the same call on fresh
data (the first 100 calls).  "Cost" is CPU, not wall time, so the other
engineers' load on a shared machine hardly moves it: per call, the event
loop thread's CPU time (``time.thread_time`` around the call and its
durability wait, median of the 100 calls) plus the SQLite writer process's
CPU for the window divided by the calls in it.

Each phase uses a fresh instance of a DNA of its own (``ZOME`` below) on the
store named by ``--store`` (SQLite with ``synchronous=FULL``, the store of
``hc run --persist``):

* ``links``: a base with 10 tagged links and a small base of 10; measures
  committing an entry linked from the base, ``link_entries``, ``get_links``
  (a Size page of 10, a Time page of 10, the 10 links of one tag, all links
  of the small base), ``get_links_count`` and ``remove_link``; grows the base
  by N linked entries;
* ``recommit``: committing the same anchor entry again, a new entry and a
  link from the anchor (the anchor pattern of most holochain-rust apps), and
  ``get_entry`` of the anchor; grows by N such calls;
* ``updates``: ``update_entry`` given the first version's address (the walk
  to the latest version is part of it) and ``get_entry`` of the first
  version; grows the chain of versions by N updates;
* ``holding``: a holder validating and integrating incoming ops — LinkAdds
  (with their targets) on one anchor, grown by N; and the Content ops of one
  anchor committed by 1,000 agents (the last 300 to a grown holder against the first 300 to a fresh one).

Growth runs 64 calls in flight and is bounded in time (``--max-secs`` per
phase): a phase that runs out of time says how far it grew.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import uvloop

from holochain.conductor.conductor import load_dna_file
from holochain.core import json as cjson
from holochain.core.crypto import AgentKey
from holochain.core.dht_ops import DhtOp
from holochain.core.header import ChainHeader
from holochain.instance.instance import Instance
from holochain.ribosome.packager import package_project, write_package
from holochain.storage.memory_store import MemoryStore
from holochain.storage.sqlite import SqliteStore

__all__ = ["ZOME", "main", "run"]

ZOME = """
from dataclasses import dataclass
from holochain import hdk

zome = hdk.Zome()

@zome.entry_type("anchor", description="an anchor", links_to=[("item", "items")])
@dataclass
class Anchor:
    name: str

@zome.entry_type("item", description="an item")
@dataclass
class Item:
    text: str

@zome.validate_link("items")
def validate_items(validation: hdk.LinkValidation) -> None:
    pass

@zome.function(public=True)
def anchor(name: str) -> str:
    return hdk.commit_entry(Anchor(name))

@zome.function(public=True)
def item(text: str) -> str:
    return hdk.commit_entry(Item(text))

@zome.function(public=True)
def again(name: str, text: str) -> str:
    base = hdk.commit_entry(Anchor(name))
    target = hdk.commit_entry(Item(text))
    hdk.link_entries(base, target, "items", "")
    return target

@zome.function(public=True)
def linked(base: str, text: str, tag: str) -> str:
    target = hdk.commit_entry(Item(text))
    hdk.link_entries(base, target, "items", tag)
    return target

@zome.function(public=True)
def link(base: str, target: str, tag: str) -> str:
    return hdk.link_entries(base, target, "items", tag)

@zome.function(public=True)
def unlink(base: str, target: str, tag: str) -> None:
    hdk.remove_link(base, target, "items", tag)

@zome.function(public=True)
def links(base: str, tag: str, page: int, since: int) -> int:
    pagination = None
    if page:
        pagination = hdk.SizePagination(0, page)
    elif since >= 0:
        pagination = hdk.TimePagination(since, 10)
    options = hdk.GetLinksOptions(pagination=pagination)
    found = hdk.get_links_with_options(base, "items", tag or None, options)["links"]
    return len(found)

@zome.function(public=True)
def count(base: str) -> int:
    return hdk.get_links_count(base, "items", None)["count"]

@zome.function(public=True)
def update(address: str, text: str) -> str:
    return hdk.update_entry(Item(text), address)

@zome.function(public=True)
def get(address: str) -> bool:
    return hdk.get_entry(address) is not None
"""

WINDOW = 100
ROUNDS = 3  # windows per instance, alternated between the fresh and the grown one
IN_FLIGHT = 64
INFLIGHT_MEASURED = 1  # calls in flight in a measured window (--inflight)
SEQUENTIAL = {"update_entry of the first version (a chain of updates)"}  # concurrent updates fork it
AGENTS = 1000  # agents committing one anchor: the grown holder holds them all at the end


class GrowthError(RuntimeError):
    pass


def build_dna(root: Path) -> Path:
    project = root / "growth"
    code = project / "zomes" / "growth" / "code"
    code.mkdir(parents=True, exist_ok=True)
    (project / "app.json").write_text(json.dumps({"name": "growth", "description": "", "version": "0.1.0"}))
    (project / "zomes" / "growth" / "zome.json").write_text('{"description": ""}')
    (code / "__init__.py").write_text(ZOME)
    tree, _ = package_project(project)
    out = project / "dist" / "growth.dna.json"
    write_package(tree, out)
    return out


class Lab:
    def __init__(self, dna_path: Path, root: Path, store: str, max_secs: float) -> None:
        self.dna = load_dna_file(dna_path)
        self.root = root
        self.store = store
        self.max_secs = max_secs
        self._count = 0

    async def instance(self, agent: str = "growth", store: str | None = None) -> Instance:
        self._count += 1
        kind = store or self.store
        if kind == "sqlite":
            backing: Any = SqliteStore(self.root / f"i{self._count}", synchronous="full", label=agent)
        else:
            backing = MemoryStore()
        instance = Instance(f"i{self._count}", self.dna, AgentKey.for_test_agent(agent), agent, backing)
        await instance.initialize()
        instance.start()
        return instance


async def call(instance: Instance, function: str, args: dict[str, Any]) -> Any:
    out = instance.call("growth", function, args)
    if not isinstance(out, str):
        out = await out
    result = orjson.loads(out)
    if "Ok" not in result:
        raise GrowthError(f"{function}({args}) failed: {out[:300]}")
    return result["Ok"]


def _writer_cpu(instance: Instance) -> float:
    stats = getattr(instance.store, "stats", None)
    return stats.cpu_s if stats is not None else 0.0


async def window(instance: Instance, step: Callable[[int], Any], inflight: int = 1) -> tuple[float, float]:
    """Cost in µs per call of ``WINDOW`` calls of ``step(i)`` (an awaitable): the event loop's
    and the writer process's.  One at a time, the loop's is the median over the calls; with
    ``inflight`` at a time (group commit shares a transaction between them, as under load),
    the loop's CPU for the window divided by its calls."""
    gc.collect()
    writer = _writer_cpu(instance)
    if inflight == 1:
        costs = []
        for i in range(WINDOW):
            t0 = time.thread_time()
            await step(i)
            costs.append(time.thread_time() - t0)
        loop = statistics.median(costs)
    else:
        t0 = time.thread_time()
        for k in range(0, WINDOW, inflight):
            await asyncio.gather(*(step(i) for i in range(k, min(WINDOW, k + inflight))))
        loop = (time.thread_time() - t0) / WINDOW
    writer = _writer_cpu(instance) - writer
    return 1e6 * loop, 1e6 * writer / WINDOW


async def grow(step: Callable[[int], Any], n: int, max_secs: float) -> int:
    """``n`` calls of ``step(i)``, ``IN_FLIGHT`` at a time; how many were made before the deadline."""
    deadline = time.monotonic() + max_secs
    counter = iter(range(n))
    done = [0]

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            await step(i)
            done[0] += 1

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return done[0]


def _row(
    name: str, early: list[tuple[float, float]], late: list[tuple[float, float]], grown: int, unit: str
) -> dict[str, Any]:
    """Medians over the rounds of the loop's and the writer's cost, and of their sum."""
    row: dict[str, Any] = {"row": name}
    for label, windows in (("early", early), ("late", late)):
        row[f"{label}_us"] = round(statistics.median(a + b for a, b in windows), 1)
        row[f"{label}_loop_us"] = round(statistics.median(a for a, _ in windows), 1)
        row[f"{label}_writer_us"] = round(statistics.median(b for _, b in windows), 1)
    row.update(ratio=round(row["late_us"] / row["early_us"], 3), grown=grown, unit=unit)
    return row


Steps = dict[str, Callable[[int], Any]]


async def compare(
    fresh: tuple[Instance, Steps], grown: tuple[Instance, Steps], n: int, unit: str = "calls"
) -> list[dict[str, Any]]:
    """Windows of every step on the fresh and on the grown instance, alternated ``ROUNDS``
    times (so a slower minute of the machine slows both alike); medians."""
    early: dict[str, list[tuple[float, float]]] = {name: [] for name in fresh[1]}
    late: dict[str, list[tuple[float, float]]] = {name: [] for name in fresh[1]}
    for _ in range(ROUNDS):
        for name in fresh[1]:
            k = 1 if name in SEQUENTIAL else INFLIGHT_MEASURED
            early[name].append(await window(fresh[0], fresh[1][name], k))
            late[name].append(await window(grown[0], grown[1][name], k))
    return [_row(name, early[name], late[name], n, unit) for name in fresh[1]]


async def links_steps(inst: Instance) -> tuple[Steps, Callable[[int], Any]]:
    base = await call(inst, "anchor", {"name": "base"})
    small = await call(inst, "anchor", {"name": "small"})
    for i in range(10):
        await call(inst, "linked", {"base": small, "text": f"small {i}", "tag": ""})
        await call(inst, "linked", {"base": base, "text": f"special {i}", "tag": "special"})
    target = await call(inst, "item", {"text": "target"})
    removable: collections.deque[str] = collections.deque()
    serial = iter(range(1 << 40))

    async def linked(_: int) -> None:
        removable.append(await call(inst, "linked", {"base": base, "text": f"item {next(serial)}", "tag": "t"}))

    def links(base: str, tag: str = "", page: int = 0, since: int = -1) -> Callable[[int], Any]:
        return lambda i: call(inst, "links", {"base": base, "tag": tag, "page": page, "since": since})

    for _ in range(ROUNDS * WINDOW):  # something to remove in every window
        await linked(0)
    steps: Steps = {
        "commit an entry linked from one base": linked,
        "link_entries": lambda i: call(inst, "link", {"base": base, "target": target, "tag": "t"}),
        "get_links, a page of 10 (Size)": links(base, page=10),
        "get_links, a page of 10 (Time)": links(base, since=0),
        "get_links by tag (10 match)": links(base, tag="special"),
        "get_links, all 10 of a base": links(small),
        "get_links_count": lambda i: call(inst, "count", {"base": base}),
        "remove_link": lambda i: call(inst, "unlink", {"base": base, "target": removable.popleft(), "tag": "t"}),
    }
    return steps, linked


async def links_phase(lab: Lab, n: int) -> list[dict[str, Any]]:
    grown = await lab.instance()
    grown_steps, linked = await links_steps(grown)
    done = await grow(linked, n, lab.max_secs)
    fresh = await lab.instance()
    fresh_steps, _ = await links_steps(fresh)
    rows = await compare((fresh, fresh_steps), (grown, grown_steps), done)
    fresh.close()
    grown.close()
    return rows


async def recommit_steps(inst: Instance) -> Steps:
    anchor = await call(inst, "anchor", {"name": "shared"})
    serial = iter(range(1 << 40))
    return {
        "commit the same entry again, and link from it": lambda i: call(
            inst, "again", {"name": "shared", "text": f"course {next(serial)}"}
        ),
        "get_entry of an entry committed again N times": lambda i: call(inst, "get", {"address": anchor}),
    }


async def recommit_phase(lab: Lab, n: int) -> list[dict[str, Any]]:
    grown = await lab.instance()
    grown_steps = await recommit_steps(grown)
    done = await grow(grown_steps["commit the same entry again, and link from it"], n, lab.max_secs)
    fresh = await lab.instance()
    rows = await compare((fresh, await recommit_steps(fresh)), (grown, grown_steps), done)
    fresh.close()
    grown.close()
    return rows


async def updates_steps(inst: Instance) -> Steps:
    first = await call(inst, "item", {"text": "version 0"})
    serial = iter(range(1, 1 << 40))

    async def update(_: int) -> None:
        await call(inst, "update", {"address": first, "text": f"version {next(serial)}"})

    return {
        "update_entry of the first version (a chain of updates)": update,
        "get_entry of an entry with N updates": lambda i: call(inst, "get", {"address": first}),
    }


async def updates_phase(lab: Lab, n: int) -> list[dict[str, Any]]:
    grown = await lab.instance()
    grown_steps = await updates_steps(grown)
    # updates of one entry are a chain: each waits for the one before (64 in flight would fork it)
    update = grown_steps["update_entry of the first version (a chain of updates)"]
    deadline = time.monotonic() + lab.max_secs
    done = 0
    while done < n and time.monotonic() < deadline:
        await update(0)
        done += 1
    fresh = await lab.instance()
    rows = await compare((fresh, await updates_steps(fresh)), (grown, grown_steps), done, "updates")
    fresh.close()
    grown.close()
    return rows


def _ops(author: Instance, start: int, kinds: tuple[str, ...]) -> list[Any]:
    """The ops of the author's records from ``start`` on (``kinds``: which ops), as sent."""
    out = []
    for row in author.store.chain_rows(start):
        entry = author.shard.entry(row.entry_address)
        if entry is None:
            continue
        header = ChainHeader.from_json(cjson.loads(row.header))
        if entry.variant == "LinkAdd" and "LinkAdd" in kinds:
            out.append(DhtOp("LinkAdd", entry, header).to_json())
        elif entry.is_app and "Content" in kinds:
            out.append(DhtOp("Content", entry, header).to_json())
    return out


async def _hold(holder: Instance, ops: list[Any]) -> None:
    for status in await holder.incoming.hold_ops(ops, "author"):
        if status[1] != "held":
            raise GrowthError(f"the holder did not hold an op: {status}")


def _feeding(holder: Instance, feed: Any) -> Callable[[int], Any]:
    return lambda i: _hold(holder, next(feed))


async def holding_phase(lab: Lab, n: int) -> list[dict[str, Any]]:
    rows = []
    # LinkAdds (each with its target's Content op) onto one anchor
    author = await lab.instance("author", store="memory")
    anchor = await call(author, "anchor", {"name": "links"})
    anchor_op = _ops(author, 0, ("Content",))
    start = author.store.chain_length()
    total = 2 * ROUNDS * WINDOW + n
    deadline = time.monotonic() + lab.max_secs / 2
    made = 0
    while made < total and time.monotonic() < deadline:
        batch = min(IN_FLIGHT, total - made)
        texts = [f"held {made + k}" for k in range(batch)]
        await asyncio.gather(*(call(author, "linked", {"base": anchor, "text": t, "tag": ""}) for t in texts))
        made += batch
    ops = _ops(author, start, ("Content", "LinkAdd"))
    author.close()
    pairs = [ops[k : k + 2] for k in range(0, len(ops) - 1, 2)]
    measured = ROUNDS * WINDOW
    if len(pairs) < 2 * measured + 1:
        raise GrowthError("the author made too few links in the time given")
    fresh_pairs, grow_pairs, late_pairs = pairs[:measured], pairs[measured:-measured], pairs[-measured:]
    grown = await lab.instance("holder")
    await _hold(grown, anchor_op)
    deadline = time.monotonic() + lab.max_secs / 2
    done = 0
    for k in range(0, len(grow_pairs), IN_FLIGHT):
        if time.monotonic() > deadline:
            break
        chunk = grow_pairs[k : k + IN_FLIGHT]
        await asyncio.gather(*(_hold(grown, pair) for pair in chunk))
        done += len(chunk)
    fresh = await lab.instance("fresh holder")
    await _hold(fresh, anchor_op)
    name = "holder: a LinkAdd and its target onto an anchor of N links"
    rows += await compare(
        (fresh, {name: _feeding(fresh, iter(fresh_pairs))}),
        (grown, {name: _feeding(grown, iter(late_pairs))}),
        done,
        "links",
    )
    fresh.close()
    grown.close()

    # one anchor committed by 1,000 agents
    anchor_ops = []
    deadline = time.monotonic() + lab.max_secs
    for k in range(AGENTS + measured):  # the first ``measured`` go to the fresh holder
        if time.monotonic() > deadline:
            break
        agent = await lab.instance(f"agent {k}", store="memory")
        start = agent.store.chain_length()
        await call(agent, "anchor", {"name": "everyone's"})
        anchor_ops.append(_ops(agent, start, ("Content",)))
        agent.close()
    if len(anchor_ops) < 2 * measured + 1:
        raise GrowthError("too few agents committed the anchor in the time given")
    # the fresh holder's agents are not the grown one's: each agent's key is decoded once per
    # process (a cache), and both must pay for that alike
    grown = await lab.instance("holder 2")
    for ops in anchor_ops[measured:-measured]:
        await _hold(grown, ops)
    fresh = await lab.instance("fresh holder 2")
    name = "holder: an anchor's Content op from the Nth agent"
    rows += await compare(
        (fresh, {name: _feeding(fresh, iter(anchor_ops[:measured]))}),
        (grown, {name: _feeding(grown, iter(anchor_ops[-measured:]))}),
        len(anchor_ops) - measured,
        "agents",
    )
    fresh.close()
    grown.close()
    return rows


PHASES = {"links": links_phase, "recommit": recommit_phase, "updates": updates_phase, "holding": holding_phase}


async def run(store: str, n: int, phases: list[str], max_secs: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hc-growth-") as tmp:
        root = Path(tmp)
        lab = Lab(build_dna(root), root, store, max_secs)
        rows = []
        for name in phases:
            t0 = time.perf_counter()
            found = await PHASES[name](lab, n)
            for row in found:
                row["phase"], row["store"], row["phase_secs"] = name, store, round(time.perf_counter() - t0, 1)
            rows.extend(found)
    return {"store": store, "n": n, "window": WINDOW, "agents": AGENTS, "inflight": INFLIGHT_MEASURED, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    global WINDOW, AGENTS, INFLIGHT_MEASURED  # a process of its own: the windows of this run
    p = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n\n")[0])
    p.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    p.add_argument("--n", type=int, default=100_000, help="calls the data grows by (default 100000)")
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated: {','.join(PHASES)}")
    p.add_argument("--max-secs", type=float, default=600.0, help="growth time allowed per phase (default 600)")
    p.add_argument("--window", type=int, default=WINDOW, help=f"calls per measured window (default {WINDOW})")
    p.add_argument("--agents", type=int, default=AGENTS, help=f"agents committing one anchor (default {AGENTS})")
    p.add_argument("--inflight", type=int, default=1, help="calls in flight in a measured window (default 1)")
    p.add_argument("--out", type=Path, help="write the rows as JSON here (else to stdout)")
    args = p.parse_args(argv)
    phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = [x for x in phases if x not in PHASES]
    if unknown or args.n < 1:
        p.error(f"unknown phase(s) {unknown}; choose from {', '.join(PHASES)}" if unknown else "--n must be positive")
    if args.window < 1 or args.agents < 2 * ROUNDS * args.window:
        p.error(f"--window must be positive and --agents at least {2 * ROUNDS} windows")
    WINDOW, AGENTS, INFLIGHT_MEASURED = args.window, args.agents, max(1, args.inflight)
    try:
        result = uvloop.run(run(args.store, args.n, phases, args.max_secs))
    except GrowthError as exc:
        print(f"growth benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(render(result["rows"]))
    return 0


def render(rows: list[dict[str, Any]]) -> str:
    """The rows as a table: µs per call early and late, and their ratio."""
    lines = [f"{'store':7} {'row':62} {'fresh':>10} {'after N':>10} {'ratio':>6} {'N':>8}  (loop + writer µs)"]
    for r in rows:
        lines.append(
            f"{r['store']:7} {r['row']:62} {r['early_us']:>8.1f}us {r['late_us']:>8.1f}us "
            f"{r['ratio']:>6.2f} {r['grown']:>8}  ({r['early_loop_us']:.0f}+{r['early_writer_us']:.0f}"
            f" -> {r['late_loop_us']:.0f}+{r['late_writer_us']:.0f})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
