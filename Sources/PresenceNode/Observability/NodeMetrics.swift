import EmbeddedNATS
import NATSClient
import PresenceCore
import PresenceHTTP
import PresenceStore
import Prometheus
import NIOConcurrencyHelpers

/// The node's Prometheus registry, and the metrics whose values are read from the node's
/// parts when `/metrics` is scraped (cache, users by status, NATS, streams, sweeper), so
/// nothing on the request path pays for them.
final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private struct Gauges {
        let cacheEntries: Gauge
        let cacheCost: Gauge
        let usersByStatus: [PresenceStatus: Gauge]
        let streamsOpen: Gauge
        let streamBufferedBytes: Gauge
        let hubReachable: Gauge
        let ready: Gauge
        let sweeperLeaseHeld: Gauge
        let bucketLeader: Gauge
        let bucketReplicas: Gauge
        let httpConnections: Gauge
    }

    /// Counters fed from cumulative numbers: each scrape adds what grew since the last one.
    private struct DeltaCounter {
        let counter: Counter
        var last: Int = 0

        mutating func advance(to total: Int) {
            if total > last { counter.increment(by: Int64(total - last)) }
            last = max(last, total)
        }
    }

    private struct Deltas {
        var cacheHits: DeltaCounter
        var cacheMisses: DeltaCounter
        var cacheEvictions: DeltaCounter
        var reconnects: DeltaCounter
        var streamOverruns: DeltaCounter
        var expiryTransitions: DeltaCounter
        var expiryConflicts: DeltaCounter
        var expiryFailures: DeltaCounter
        var httpConnectionsEvicted: DeltaCounter
    }

    private let gauges: Gauges
    private let deltas: NIOLockedValueBox<Deltas>

    init() {
        func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "presence", metricName: name, unitName: unit, helpText: help)
        }
        let registry = self.registry
        let users = descriptor("users", "", "Presence records held by this node, by stored status")
        gauges = Gauges(
            cacheEntries: registry.makeGauge(descriptor: descriptor("cache_entries", "", "Records in the in-memory replica")),
            cacheCost: registry.makeGauge(descriptor: descriptor("cache_cost", "bytes", "Approximate bytes held by the replica")),
            usersByStatus: Dictionary(
                uniqueKeysWithValues: PresenceStatus.allCases.map {
                    ($0, registry.makeGauge(descriptor: users, labels: [("status", $0.rawValue)]))
                }),
            streamsOpen: registry.makeGauge(descriptor: descriptor("streams_open", "", "Open SSE presence streams")),
            streamBufferedBytes: registry.makeGauge(
                descriptor: descriptor(
                    "stream_buffered", "bytes", "Bytes held for stream clients: queued events and unsent connection buffers")),
            hubReachable: registry.makeGauge(
                descriptor: descriptor("hub_reachable", "", "1 when the bucket's JetStream server (the hub) answers")),
            ready: registry.makeGauge(descriptor: descriptor("ready", "", "1 when /health/ready answers 200")),
            sweeperLeaseHeld: registry.makeGauge(
                descriptor: descriptor("sweeper_lease_held", "", "1 when this center holds the lease and runs the expiry sweeper")),
            bucketLeader: registry.makeGauge(
                descriptor: descriptor("bucket_has_leader", "", "Clustered center: 1 when the bucket's group has a leader")),
            bucketReplicas: registry.makeGauge(
                descriptor: descriptor("bucket_replicas", "", "Clustered center: copies the bucket keeps")),
            httpConnections: registry.makeGauge(
                descriptor: descriptor("http_connections_open", "", "HTTP connections open (of service.http.max_connections)")))
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> DeltaCounter {
            DeltaCounter(counter: registry.makeCounter(descriptor: descriptor(name, "total", help), labels: labels))
        }
        let expiry = "Expiry sweeper outcomes: transitions persisted, conflicts (a write won), failures (retried)"
        deltas = NIOLockedValueBox(
            Deltas(
                cacheHits: counter("cache_hits", "Replica look-ups answered from memory"),
                cacheMisses: counter("cache_misses", "Replica look-ups that found no record in memory"),
                cacheEvictions: counter("cache_evictions", "Records evicted to stay under cache.max_cost"),
                reconnects: counter("nats_reconnects", "NATS client reconnections"),
                streamOverruns: counter("stream_overruns", "Streams cut off because the client read too slowly"),
                expiryTransitions: counter("expiry_sweeps", expiry, [("outcome", "transition")]),
                expiryConflicts: counter("expiry_sweeps", expiry, [("outcome", "conflict")]),
                expiryFailures: counter("expiry_sweeps", expiry, [("outcome", "failure")]),
                httpConnectionsEvicted: counter(
                    "http_connections_evicted",
                    "Connections that only waited for their client, closed to make room at the connection budget")))
    }

    /// Reads the node's parts and renders the Prometheus text exposition.
    func render(
        store: NATSPresenceStore, changes: PresenceChangeHub, sweeper: ExpirySweeper?, lease: SweeperLease? = nil,
        clustered: Bool = false, connections: ConnectionRegistry? = nil
    ) -> [UInt8] {
        if let connections { gauges.httpConnections.set(to: Double(connections.openConnections)) }
        if let lease { gauges.sweeperLeaseHeld.set(to: lease.isHeld ? 1 : 0) }
        if clustered, let bucket = store.bucketState, let group = bucket.cluster {
            // The last answer's leader counts only while the bucket still answers.
            recordCluster(group, replicas: bucket.replicas, answering: store.isHubReachable)
        }
        let statistics = store.replica.statistics
        gauges.cacheEntries.set(to: Double(statistics.entries))
        gauges.cacheCost.set(to: Double(statistics.costBytes))
        for (status, gauge) in gauges.usersByStatus { gauge.set(to: Double(statistics.byStatus[status] ?? 0)) }
        gauges.streamsOpen.set(to: Double(changes.subscriberCount))
        gauges.streamBufferedBytes.set(to: Double(changes.bufferedBytes))
        gauges.hubReachable.set(to: store.isHubReachable ? 1.0 : 0.0)
        gauges.ready.set(to: store.readiness().isReady ? 1.0 : 0.0)
        let connection = store.connectionInfo
        let sweeps = sweeper?.statistics
        deltas.withLockedValue { deltas in
            deltas.cacheHits.advance(to: statistics.hits)
            deltas.cacheMisses.advance(to: statistics.misses)
            deltas.cacheEvictions.advance(to: statistics.evictions)
            deltas.reconnects.advance(to: Int(connection.reconnects))
            deltas.streamOverruns.advance(to: changes.overrunCount)
            if let connections { deltas.httpConnectionsEvicted.advance(to: connections.evictedConnections) }
            if let sweeps {
                deltas.expiryTransitions.advance(to: sweeps.transitions)
                deltas.expiryConflicts.advance(to: sweeps.conflicts)
                deltas.expiryFailures.advance(to: sweeps.failures)
            }
        }
        return registry.emitToBuffer() + ProcessMetrics.text(version: PresenceNode.version)
    }

    /// The bucket's group in a JetStream cluster: its leader, and each other copy's lag and
    /// whether its server is reachable (`presence_cluster_peer_up`, by peer).
    private func recordCluster(_ group: StreamClusterState, replicas: Int, answering: Bool) {
        gauges.bucketLeader.set(to: group.leader != nil && answering ? 1 : 0)
        gauges.bucketReplicas.set(to: Double(replicas))
        let lag = MetricNameDescriptor(
            namespace: "presence", metricName: "bucket_replica_lag", unitName: "",
            helpText: "Clustered center: writes a copy of the bucket is behind its leader, by peer")
        let up = MetricNameDescriptor(
            namespace: "presence", metricName: "cluster_peer_up", unitName: "",
            helpText: "Clustered center: 1 when the bucket's leader reaches that peer's copy, by peer")
        for peer in group.replicas {
            registry.makeGauge(descriptor: lag, labels: [("peer", peer.name)]).set(to: Double(peer.lag))
            registry.makeGauge(descriptor: up, labels: [("peer", peer.name)]).set(to: peer.offline ? 0 : 1)
        }
    }
}
