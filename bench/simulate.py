"""``python -m bench.simulate``: the real DHT nodes in virtual time, over a modelled relay.

    python -m bench.simulate --agents 300
    python -m bench.simulate --agents 1000 --latency-ms 50 --loss 0.01 --out sim.json

Every agent is a real :class:`holochain.net.dht.DhtNode` (membership by
signed agent records, arcs, publishing, gossip, queries — the code a
conductor runs) on an asyncio loop whose clock is virtual: when nothing is
ready to run, time jumps to the next timer, so a minute of network life
costs only the CPU the nodes need.  The relay is modelled: each delivery
takes ``--latency-ms`` (request and reply each), a fraction ``--loss`` is
lost, an agent killed or across a partition is "not subscribed"
(:class:`~holochain.net.Unreachable`, as NATS's no-responders says), and
each delivery is charged ``--relay-us`` of relay CPU.  Signatures are real
Ed25519.  Reported, per phase:

* **idle**: per-agent messages/s and bytes/s delivered, the nodes' CPU per
  agent (real seconds per virtual second), the relay's modelled load;
* **publish → held**: from ``publish`` until each of the op's R holders
  holds it (p50 / p99 over every op and holder);
* **churn**: 10 % of agents killed and as many newcomers join; the longest
  time any op spent below R live holders (the R nearest live agents);
* **partition**: the agents split in two for a while, each side publishing;
  after it heals, the time until every op is held by its R holders again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import selectors
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from holochain.core.crypto import AgentKey
from holochain.net import Network, RequestTimeout, Unreachable
from holochain.net.location import holders_for

SPACE = "QmSimulatedSpace"
EPOCH_MS = 1_800_000_000_000


class _InstantSelector(selectors.DefaultSelector):
    """A selector that never waits: a wait of ``timeout`` advances the virtual clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None):  # type: ignore[override]
        if timeout is not None and timeout > 0:
            self.now += timeout
        return super().select(0)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time (see the module docstring)."""

    def __init__(self) -> None:
        self._instant = _InstantSelector()
        super().__init__(self._instant)

    def time(self) -> float:
        return self._instant.now


class Relay:
    """The modelled relay: a switchboard for agents each alone in its conductor."""

    name = "simulated relay"
    max_message_bytes = 1024 * 1024
    announces_all = False

    def __init__(self, latency: float, loss: float, seed: int) -> None:
        self.latency = latency
        self.loss = loss
        self.random = random.Random(seed)
        self.inboxes: dict[str, Any] = {}
        self.side: dict[str, int] = {}  # partition: agent -> side (empty: none)
        self.messages = 0
        self.bytes = 0
        self.per_agent_in: dict[str, int] = {}

    def reset_counts(self) -> None:
        self.messages = self.bytes = 0

    async def join(self, space: str, agent: str, inbox: Any) -> None:
        self.inboxes[agent] = inbox

    def leave(self, space: str, agent: str) -> None:
        self.inboxes.pop(agent, None)

    def kill(self, agent: str) -> None:
        self.inboxes.pop(agent, None)

    def members(self, space: str, viewer: str | None = None) -> list[str]:
        return [viewer] if viewer in self.inboxes else []

    def _reachable(self, a: str, b: str) -> bool:
        return not self.side or self.side.get(a) == self.side.get(b)

    def _count(self, data: bytes) -> None:
        self.messages += 1
        self.bytes += len(data)

    async def request(self, space: str, sender: str, to: str, data: bytes, timeout: float) -> bytes:
        if to == "*":
            others = [a for a in self.inboxes if a != sender and self._reachable(sender, a)]
            if not others:
                raise Unreachable("nobody else is in the space")
            to = self.random.choice(others)
        inbox = self.inboxes.get(to)
        if inbox is None or not self._reachable(sender, to):
            await asyncio.sleep(self.latency)
            raise Unreachable(f"agent {to} is not subscribed")
        if self.random.random() < self.loss:
            await asyncio.sleep(timeout)
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s")
        self._count(data)
        await asyncio.sleep(self.latency)
        try:
            reply = await asyncio.wait_for(inbox.on_message(sender, data), timeout)
        except TimeoutError:
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s") from None
        self._count(reply)
        await asyncio.sleep(self.latency)
        return reply

    def notify(self, space: str, sender: str, to: str, data: bytes) -> None:
        inbox = self.inboxes.get(to)
        if inbox is not None and self._reachable(sender, to):
            self._count(data)
            asyncio.get_running_loop().call_later(
                self.latency, lambda: asyncio.ensure_future(inbox.on_message(sender, data))
            )

    async def close(self) -> None:
        pass


class Holder:
    """An agent's side of its node: holds whatever it is sent (no validation), serves it back."""

    def __init__(self, sim: Simulation, agent: str) -> None:
        self.sim = sim
        self.agent = agent
        self.node: Any = None
        self.held: dict[str, dict[str, Any]] = {}
        self.authored: list[tuple[str, str]] = []

    async def hold_ops(self, ops: list[Any], sender: str) -> list[list[str]]:
        out = []
        for op in ops:
            h = op["hash"]
            if h not in self.held:
                self.held[h] = op
                self.node.note_held(h, op["basis"], op["author"])
                self.sim.on_held(h, self.agent)
            out.append([h, "held"])
        return out

    def answer_entry(self, address: str) -> dict[str, Any] | None:
        op = self.held.get(address)
        return {"op": op["hash"]} if op else None

    def answer_links(self, base: str, query: dict[str, Any]) -> dict[str, Any] | None:
        return None

    async def receive_direct(self, sender: str, zome: str, payload: str) -> str:
        return payload

    def validation_package(self, header_address: str) -> dict[str, Any] | None:
        return None

    def held_items(self) -> list[tuple[str, str, str]]:
        return []

    def authored_items(self, start: int) -> tuple[list[tuple[str, str]], int]:
        return self.authored[start:], len(self.authored)

    def ops(self, op_hashes: list[str]) -> dict[str, Any]:
        return {h: self.held[h] for h in op_hashes if h in self.held}

    def has_op(self, op_hash: str) -> bool:
        return op_hash in self.held

    def peers_changed(self) -> None:
        pass


class Simulation:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.random = random.Random(args.seed)
        self.relay = Relay(args.latency_ms / 1000, args.loss, args.seed)
        self.network = Network(
            self.relay,
            redundancy=args.redundancy,
            gossip_interval=args.gossip_ms / 1000,
            request_timeout=2.0,
            info_ttl=1200,
            clock=lambda: EPOCH_MS + int(asyncio.get_running_loop().time() * 1000),
        )
        self.holders: dict[str, Holder] = {}
        self.published: dict[str, tuple[str, float]] = {}  # op hash -> (basis, when)
        self.held_at: dict[tuple[str, str], float] = {}
        self.count = 0

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def on_held(self, op_hash: str, agent: str) -> None:
        self.held_at.setdefault((op_hash, agent), self.now())

    async def add_agent(self) -> str:
        key = AgentKey.for_test_agent(f"sim-{self.count}")
        self.count += 1
        holder = Holder(self, key.address)
        holder.node = await self.network.join(SPACE, key, holder)
        self.holders[key.address] = holder
        return key.address

    def kill(self, agent: str) -> None:
        holder = self.holders.pop(agent)
        self.relay.kill(agent)
        holder.node.closed = True  # gone without a goodbye (SIGKILL)
        for task in list(holder.node._tasks):
            task.cancel()
        self.network.nodes.discard(holder.node)

    def publish(self, author: str, n: int) -> list[str]:
        holder = self.holders[author]
        ops, hashes, bases = [], [], []
        for _ in range(n):
            h = f"Qm{self.random.getrandbits(128):032x}"
            op = {"hash": h, "basis": h, "author": author, "body": "x" * self.args.op_bytes}
            holder.held[h] = op
            holder.authored.append((h, h))
            self.held_at[(h, author)] = self.now()
            self.published[h] = (h, self.now())
            ops.append(op)
            hashes.append(h)
            bases.append(h)
        holder.node.publish(ops, bases, hashes)
        return hashes

    def under_replicated(self, ops: list[str]) -> list[str]:
        """Ops not held by all of their R holders among the live agents."""
        live = list(self.holders)
        out = []
        for h in ops:
            should = holders_for(h, live, self.args.redundancy)
            if not all(h in self.holders[a].held for a in should):
                out.append(h)
        return out

    def views_complete(self) -> float:
        live = set(self.holders)
        return statistics.mean(len(live & set(h.node.members())) / len(live) for h in self.holders.values())

    async def idle(self, seconds: float) -> dict[str, float]:
        self.relay.reset_counts()
        cpu0, t0 = time.process_time(), self.now()
        await asyncio.sleep(seconds)
        cpu, span, n = time.process_time() - cpu0, self.now() - t0, len(self.holders)
        return {
            "messages_per_agent_s": self.relay.messages / span / n,
            "bytes_per_agent_s": self.relay.bytes / span / n,
            "cpu_ms_per_agent_s": cpu / span / n * 1000,
            "relay_cpu_share": self.relay.messages * self.args.relay_us / 1e6 / span,
        }

    async def wait_replicated(self, ops: list[str], bound: float) -> float:
        start = self.now()
        while self.under_replicated(ops):
            if self.now() - start > bound:
                return float("inf")
            await asyncio.sleep(1.0)
        return self.now() - start

    async def run(self) -> dict[str, Any]:
        args, out = self.args, {}
        wall = time.monotonic()
        for i in range(args.agents):  # joins spread over the first seconds
            await self.add_agent()
            if i % 50 == 49:
                await asyncio.sleep(0.5)
        await asyncio.sleep(args.warmup)
        out["view_completeness"] = self.views_complete()
        out["idle"] = await self.idle(args.window)
        # publish -> held, at every holder
        authors = self.random.sample(list(self.holders), min(args.ops, len(self.holders)))
        ops = [h for a in authors for h in self.publish(a, 1)]
        await asyncio.sleep(max(5.0, 4 * args.gossip_ms / 1000))
        live = list(self.holders)
        delays = []
        for h in ops:
            for a in holders_for(h, live, args.redundancy):
                delays.append(self.held_at.get((h, a), float("inf")) - self.published[h][1])
        finite = [d for d in delays if d != float("inf")]
        out["publish_to_held_s"] = {
            "p50": statistics.median(finite) if finite else None,
            "p99": sorted(delays)[min(len(delays) - 1, round(0.99 * len(delays)))],
            "never": len(delays) - len(finite),
        }
        # churn: 10 % killed, as many newcomers
        victims = self.random.sample(list(self.holders), max(1, len(self.holders) // 10))
        for agent in victims:
            self.kill(agent)
        for _ in victims:
            await self.add_agent()
        all_ops = list(self.published)
        out["churn"] = {"killed": len(victims), "joined": len(victims)}
        out["churn"]["seconds_until_every_op_at_r"] = await self.wait_replicated(all_ops, args.bound)
        out["churn"]["view_completeness"] = self.views_complete()
        # partition: two halves, each publishes, then heals
        agents = list(self.holders)
        self.random.shuffle(agents)
        self.relay.side = {a: i % 2 for i, a in enumerate(agents)}
        await asyncio.sleep(args.partition_s)
        side_ops = self.publish(agents[0], 5) + self.publish(agents[1], 5)
        await asyncio.sleep(5)
        self.relay.side = {}
        out["partition"] = {"seconds": args.partition_s}
        out["partition"]["seconds_after_heal_until_every_op_at_r"] = await self.wait_replicated(
            all_ops + side_ops, args.bound
        )
        out["partition"]["view_completeness"] = self.views_complete()
        out["after"] = await self.idle(args.window)
        out["virtual_s"] = self.now()
        out["wall_s"] = time.monotonic() - wall
        return out


def render(args: argparse.Namespace, r: dict[str, Any]) -> str:
    idle, p = r["idle"], r["publish_to_held_s"]
    return "\n".join(
        [
            f"{args.agents} agents, R={args.redundancy}, gossip {args.gossip_ms} ms, links {args.latency_ms} ms, "
            f"loss {args.loss:g}: {r['virtual_s']:.0f} virtual s in {r['wall_s']:.0f} s",
            f"views: {r['view_completeness']:.3f} complete",
            f"idle: {idle['messages_per_agent_s']:.2f} msg/agent/s, {idle['bytes_per_agent_s']:.0f} B/agent/s, "
            f"{idle['cpu_ms_per_agent_s']:.2f} ms CPU/agent/s, relay {idle['relay_cpu_share']:.3f} cores",
            f"publish -> held at each of R: p50 {p['p50']:.3f} s, p99 {p['p99']:.3f} s ({p['never']} never)",
            f"10% churn ({r['churn']['killed']} killed, as many joined): every op at R after "
            f"{r['churn']['seconds_until_every_op_at_r']:.0f} s",
            f"partition of {r['partition']['seconds']:.0f} s: every op at R "
            f"{r['partition']['seconds_after_heal_until_every_op_at_r']:.0f} s after the heal",
            f"after: {r['after']['messages_per_agent_s']:.2f} msg/agent/s, {r['after']['bytes_per_agent_s']:.0f} B/agent/s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__.split("\n\n")[0])
    p.add_argument("--agents", type=int, default=300)
    p.add_argument("--redundancy", type=int, default=5)
    p.add_argument("--gossip-ms", type=int, default=1000)
    p.add_argument("--latency-ms", type=float, default=50.0, help="one way, per delivery")
    p.add_argument("--loss", type=float, default=0.0, help="fraction of requests lost")
    p.add_argument("--relay-us", type=float, default=20.0, help="modelled relay CPU per delivery, microseconds")
    p.add_argument("--ops", type=int, default=100, help="ops published (one each by distinct agents)")
    p.add_argument("--op-bytes", type=int, default=500)
    p.add_argument("--warmup", type=float, default=30.0, help="virtual seconds after the joins")
    p.add_argument("--window", type=float, default=30.0, help="idle window, virtual seconds")
    p.add_argument("--partition-s", type=float, default=20.0)
    p.add_argument("--bound", type=float, default=300.0, help="longest wait for replication, virtual s")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    loop = VirtualLoop()
    try:
        result = loop.run_until_complete(Simulation(args).run())
    finally:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()
    print(render(args, result))
    if args.out:
        args.out.write_text(json.dumps({"args": vars(args) | {"out": None}, "result": result}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
