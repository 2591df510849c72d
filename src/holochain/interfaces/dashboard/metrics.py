"""``/metrics``: the conductor's state in the Prometheus text format.

One :class:`~prometheus_client.CollectorRegistry` per conductor (several
run in one test process), holding one collector that reads, at scrape
time, what the conductor already keeps: the zome-call log
(:class:`~holochain.conductor.call_log.CallLog`), chain lengths and
commits, the SQLite writer's histograms, each DHT node's peers, gossip and
queues, and the interfaces' connections.  Nothing is counted on the hot path
for the sake of this module.

Metric names follow Prometheus' conventions (``holochain_…_total`` for
counters, base units such as ``_seconds``); see README.md, "Dashboard and
metrics", for the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ...conductor.call_log import BUCKETS, RESULTS
from ...storage.base import StorageError
from ...storage.sqlite import GROUP_BUCKETS, WRITE_BUCKETS, WriterStats

if TYPE_CHECKING:
    from ..service import ConductorService

__all__ = ["metrics_registry", "render_metrics", "CONTENT_TYPE_LATEST"]


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip(bounds, counts):
        running += count
        out.append((repr(float(bound)), running))
    out.append(("+Inf", running + counts[-1]))
    return out


class ConductorCollector(Collector):
    def __init__(self, service: ConductorService) -> None:
        self.service = service

    def describe(self) -> list[Metric]:
        return []  # metrics are created at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        yield from self._instances()
        yield from self._interfaces()

    def _calls(self) -> Iterator[Metric]:
        conductor = self.service.conductor
        calls = CounterMetricFamily(
            "holochain_zome_calls",
            "Zome calls the conductor served, by instance, zome, function and result "
            "(ok; err: the function returned an Err; error: the call was refused or failed).",
            labels=["instance", "zome", "function", "result"],
        )
        latency = HistogramMetricFamily(
            "holochain_zome_call_duration_seconds",
            "Time from a zome call's arrival to its reply (a committing call's reply waits until its data is durable).",
            labels=["instance", "zome", "function"],
        )
        log = conductor.calls
        for (instance, zome, function), stats in list(log.stats.items()) if log is not None else ():
            for result in RESULTS:
                calls.add_metric([instance, zome, function, result], stats.results[result])
            latency.add_metric(
                [instance, zome, function], _cumulative(BUCKETS, stats.buckets), sum_value=stats.total_seconds
            )
        yield calls
        yield latency
        in_flight = GaugeMetricFamily(
            "holochain_zome_calls_in_flight", "Zome calls waiting for their reply.", labels=["instance"]
        )
        for instance_id in conductor.instances:
            in_flight.add_metric([instance_id], conductor.running_calls.get(instance_id, 0))
        yield in_flight

    def _instances(self) -> Iterator[Metric]:
        conductor = self.service.conductor
        m: dict[str, Any] = {
            "running": GaugeMetricFamily("holochain_instance_running", "1 if the instance runs.", labels=["instance"]),
            "records": GaugeMetricFamily(
                "holochain_source_chain_records", "Records on the instance's source chain.", labels=["instance"]
            ),
            "commits": CounterMetricFamily(
                "holochain_commits",
                "Records this conductor added to the source chain since it started.",
                labels=["instance"],
            ),
            "held_entries": GaugeMetricFamily(
                "holochain_dht_held_entries", "Entries the instance's DHT shard holds.", labels=["instance"]
            ),
            "held_ops": GaugeMetricFamily(
                "holochain_dht_held_ops",
                "DHT ops the node can serve to peers: held for others and authored.",
                labels=["instance"],
            ),
            "peers": GaugeMetricFamily("holochain_network_peers", "Other agents in the space.", labels=["instance"]),
            "rounds": CounterMetricFamily("holochain_gossip_rounds", "Gossip rounds run.", labels=["instance"]),
            "fetched": CounterMetricFamily(
                "holochain_gossip_ops_fetched", "Ops gossip found missing here and fetched.", labels=["instance"]
            ),
            "pushed": CounterMetricFamily(
                "holochain_gossip_ops_pushed", "Ops gossip found missing at a peer and sent.", labels=["instance"]
            ),
            "queue": GaugeMetricFamily(
                "holochain_publish_queue_ops", "Ops waiting in the outboxes to holders.", labels=["instance"]
            ),
            "unpublished": GaugeMetricFamily(
                "holochain_publish_unpublished_records",
                "Committed records not yet handed to publishing.",
                labels=["instance"],
            ),
            "refused": CounterMetricFamily(
                "holochain_validation_failures",
                "Entries validation refused (committed here or sent by peers).",
                labels=["instance"],
            ),
            "groups": HistogramMetricFamily(
                "holochain_storage_group_commit_batches",
                "Write batches (commits, holds) that shared one SQLite transaction and fsync.",
                labels=["instance"],
            ),
            "fsync": HistogramMetricFamily(
                "holochain_storage_group_commit_seconds",
                "Time the SQLite writer took for one group commit, its fsync included.",
                labels=["instance"],
            ),
        }
        relays: dict[str, tuple[str, bool]] = {}  # network name -> (switchboard kind, connected)
        for instance_id, instance in list(conductor.instances.items()):
            labels = [instance_id]
            m["running"].add_metric(labels, 1 if instance.active else 0)
            m["records"].add_metric(labels, instance.chain.length)
            m["commits"].add_metric(labels, instance.chain.appended)
            m["refused"].add_metric(labels, instance.validation_log.count)
            try:
                m["held_entries"].add_metric(labels, instance.store.held_counts()[0])
            except StorageError:
                pass
            m["unpublished"].add_metric(labels, max(0, instance.chain.length - instance.publisher.cursor))
            node = instance.node
            if node is not None and not node.closed:
                m["held_ops"].add_metric(labels, len(node.index))
                m["peers"].add_metric(labels, len(node.others()))
                m["rounds"].add_metric(labels, node.gossip_rounds)
                m["fetched"].add_metric(labels, node.gossip_fetched)
                m["pushed"].add_metric(labels, node.gossip_pushed)
                m["queue"].add_metric(labels, sum(node.outbox_sizes().values()))
            stats = getattr(instance.store, "stats", None)
            if isinstance(stats, WriterStats):
                m["groups"].add_metric(labels, _cumulative(GROUP_BUCKETS, stats.group_buckets), sum_value=stats.batches)
                m["fsync"].add_metric(labels, _cumulative(WRITE_BUCKETS, stats.wall_buckets), sum_value=stats.wall_s)
            network = instance.network
            if not network.is_private:
                connected = getattr(network.switchboard, "connected", True)
                relays[str(network.name)] = (type(network.switchboard).__name__, bool(connected))
        yield from m.values()
        relay = GaugeMetricFamily(
            "holochain_network_connected",
            "1 while the network's relay connection is up (in-process networks are always up).",
            labels=["network", "kind"],
        )
        for name, (kind, up) in sorted(relays.items()):
            relay.add_metric([name, kind.replace("Switchboard", "").lower()], 1 if up else 0)
        yield relay

    def _interfaces(self) -> Iterator[Metric]:
        service = self.service
        connections = GaugeMetricFamily(
            "holochain_interface_connections", "Open WebSocket connections, by interface.", labels=["interface"]
        )
        for interface_id in list(service.servers):
            count = service.connection_count(interface_id)
            if count is not None:
                connections.add_metric([interface_id], count)
        yield connections


def metrics_registry(service: ConductorService) -> CollectorRegistry:
    """A registry of its own for this conductor (never the process-wide default one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConductorCollector(service))
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
