import Prometheus

/// The heartbeat plane's Prometheus metrics (SPEC §3a): what an operator watches to see the
/// plane working. Durable writes are `presence_kv_operation_duration_seconds_count{operation="put"}`.
public struct HeartbeatMetrics: Sendable {
    /// Heartbeats this node accepted from its clients and sent on the plane.
    let accepted: Counter
    /// Batches published, and those that could not be.
    let batchesSent: Counter
    let batchesFailed: Counter
    /// Heartbeats per published batch.
    let batchSize: ValueHistogram
    /// Batches received from other nodes, and messages on the subject that were not batches.
    let batchesReceived: Counter
    let batchesRefused: Counter
    /// Heartbeats from other nodes applied to the replica, and those that changed nothing
    /// (no such record or session, offline, or already later).
    let applied: Counter
    let ignored: Counter
    /// Age of a received heartbeat when it was applied.
    let lag: DurationHistogram

    /// Registers the metrics in `registry`.
    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(namespace: "presence", metricName: name, unitName: "total", helpText: help))
        }
        accepted = counter("heartbeats_accepted", "Heartbeats accepted from clients and sent on the heartbeat plane")
        batchesSent = counter("heartbeat_batches_sent", "Heartbeat batches published on core NATS")
        batchesFailed = counter("heartbeat_batches_failed", "Heartbeat batches that could not be published (connection closed)")
        batchSize = registry.makeValueHistogram(
            descriptor: .init(namespace: "presence", metricName: "heartbeat_batch_size", unitName: "", helpText: "Heartbeats per published batch"),
            buckets: [1, 10, 100, 500, 1_000, 2_000, 4_000])
        batchesReceived = counter("heartbeat_batches_received", "Heartbeat batches received from other nodes")
        batchesRefused = counter("heartbeat_batches_refused", "Messages on the heartbeat subject that were not a heartbeat batch")
        applied = counter("heartbeats_applied", "Heartbeats from other nodes applied to the replica")
        ignored = counter(
            "heartbeats_ignored", "Heartbeats from other nodes that changed nothing (no such session, offline, or older)")
        lag = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "presence", metricName: "heartbeat_lag", unitName: "seconds",
                helpText: "Age of a heartbeat from another node when it was applied"),
            buckets: StoreMetrics.latencyBuckets + [.seconds(5), .seconds(10)])
    }
}
