import Prometheus

/// The store's Prometheus metrics: KV operation latency and errors, watcher events and lag.
/// Handles are created once, so recording is an atomic update, never a registry look-up.
public struct StoreMetrics: Sendable {
    let getOK: DurationHistogram
    let getError: DurationHistogram
    let putOK: DurationHistogram
    let putError: DurationHistogram
    let putConflict: DurationHistogram
    let putConflicts: Counter
    let putOutcomeUnknown: Counter
    let unavailableRetries: Counter
    let replicaRebuilds: Counter
    let watcherEvents: Counter
    let watcherLag: DurationHistogram
    let watcherResyncs: Counter
    let watcherStalls: Counter
    /// The heartbeat plane's.
    let heartbeats: HeartbeatMetrics
    /// Audit entries the stream acknowledged.
    let auditAppended: Counter
    /// Audit entries lost: not sent, refused or unacknowledged (the write itself stood).
    let auditGaps: Counter

    /// Latency buckets from 100 µs to 2.5 s.
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    /// Registers the store's metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry) {
        let kvDuration = MetricNameDescriptor(
            namespace: "presence", metricName: "kv_operation_duration", unitName: "seconds",
            helpText: "Latency of NATS KV operations, by operation and result")
        func kv(_ operation: String, _ result: String) -> DurationHistogram {
            registry.makeDurationHistogram(
                descriptor: kvDuration, labels: [("operation", operation), ("result", result)], buckets: Self.latencyBuckets)
        }
        getOK = kv("get", "ok")
        getError = kv("get", "error")
        putOK = kv("put", "ok")
        putError = kv("put", "error")
        putConflict = kv("put", "conflict")
        putConflicts = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "kv_cas_conflicts", unitName: "total",
                helpText: "Compare-and-set writes that lost a race"))
        putOutcomeUnknown = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "kv_writes_outcome_unknown", unitName: "total",
                helpText: "Writes sent whose acknowledgement did not come in time (answered 504)"))
        unavailableRetries = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "write_unavailable_retries", unitName: "total",
                helpText: "Changes not applied because the bucket could not be reached, tried again inside the node"))
        replicaRebuilds = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "replica_rebuilds", unitName: "total",
                helpText: "Times the replica was rebuilt because the bucket was recreated or went backwards"))
        watcherEvents = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "watcher_events", unitName: "total",
                helpText: "KV watcher events applied to the replica"))
        watcherLag = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "presence", metricName: "watcher_lag", unitName: "seconds",
                helpText: "Time from a record's write (its updated_at) to its arrival through the watcher"),
            buckets: Self.latencyBuckets + [.seconds(5), .seconds(10)])
        watcherResyncs = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "watcher_resyncs", unitName: "total",
                helpText: "Times the watcher was (re)created and the replica resynchronised"))
        watcherStalls = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "watcher_stalls", unitName: "total",
                helpText: "Times a watcher that delivered nothing while the bucket was ahead was recreated"))
        heartbeats = HeartbeatMetrics(registry: registry)
        auditAppended = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "audit_appended", unitName: "total",
                helpText: "Accepted changes appended to the presence-audit stream"))
        auditGaps = registry.makeCounter(
            descriptor: .init(
                namespace: "presence", metricName: "audit_gaps", unitName: "total",
                helpText: "Accepted changes whose audit entry was lost (the change itself stood)"))
    }

    /// Metrics that go nowhere (tools and tests that do not scrape).
    public static func unregistered() -> StoreMetrics { StoreMetrics(registry: PrometheusCollectorRegistry()) }
}
