import EmbeddedNATS
import Logging
import PresenceCore
import PresenceStore
import ServiceLifecycle

/// A node's store and what runs beside it: the change hub that feeds streams, the store, a
/// center's storage watch, standalone import, expiry sweeper and its lease.
extension PresenceNode {
    /// The store and the services that run with it, in the order they start.
    struct StoreParts: Sendable {
        let store: NATSPresenceStore
        let sweeper: ExpirySweeper?
        let lease: SweeperLease?
        let services: [any Service]
    }

    /// The hub that feeds live streams; streams never take the slots requests and health
    /// probes need (at most ``ConnectionBudget/streamShare``).
    static func makeChangeHub(_ configuration: NodeConfiguration, connections: ConnectionBudget, logger: Logger)
        -> PresenceChangeHub
    {
        let maxStreams = min(configuration.maxStreams, connections.streamShare)
        if maxStreams < configuration.maxStreams {
            logger.notice(
                "streams are limited to three quarters of the connection budget",
                metadata: ["stream.max_streams": "\(configuration.maxStreams)", "max_streams": "\(maxStreams)"])
        }
        return PresenceChangeHub(
            maxSubscribers: maxStreams, queueCapacity: configuration.streamQueueSize,
            memory: StreamMemoryBudget(
                maxPerStream: configuration.streamMaxBufferedBytes, maxTotal: configuration.streamMaxTotalBufferedBytes))
    }

    /// The store (it connects when it runs), with a center's storage watch, standalone import
    /// and sweeper; the embedded nats-server first among the services.
    static func makeStore(
        _ configuration: NodeConfiguration, supervisor: NATSServerSupervisor?, changes: PresenceChangeHub,
        metrics: NodeMetrics, tracing: NodeTracing?, clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) -> StoreParts {
        var services: [any Service] = []
        if let supervisor { services.append(supervisor) }
        var storage: StorageMonitor?
        if let supervisor, configuration.role == .center {
            storage = StorageMonitor(directory: supervisor.configuration.storeDirectory, supervisor: supervisor, logger: logger)
        }
        var standaloneImport: StandaloneImport?
        var pendingWork: (@Sendable () -> String?)?
        if configuration.role == .center && configuration.natsEmbedded {
            let importer = StandaloneImport(dataDirectory: configuration.dataDirectory, logger: logger)
            pendingWork = { importer.problem }
            standaloneImport = importer
        }
        var storeConfiguration = PresenceStoreConfiguration(
            configuration, supervisor: supervisor, storage: storage, pendingWork: pendingWork)
        storeConfiguration.tracer = tracing?.tracer
        let store = NATSPresenceStore(
            configuration: storeConfiguration,
            logger: logger, changes: changes, metrics: StoreMetrics(registry: metrics.registry), clock: clock)
        if let storage { services.append(storage) }
        services.append(store)
        if let standaloneImport {
            standaloneImport.use(store)
            services.append(standaloneImport)
        }
        guard configuration.role == .center else { return StoreParts(store: store, sweeper: nil, lease: nil, services: services) }
        // Several centers share the bucket only in a cluster; alone, a center needs no lease
        // (nor the right to create its bucket, which an external NATS may not give).
        let lease = configuration.isClusteredCenter ? SweeperLease(store: store, holder: configuration.nodeID, logger: logger) : nil
        let sweeper = ExpirySweeper(
            store: store, interval: .milliseconds(Int(configuration.sweepInterval * 1000)),
            batchSize: configuration.sweepBatch, retentionSeconds: configuration.retention, logger: logger, lease: lease)
        if let lease { services.append(lease) }
        services.append(sweeper)
        // Stopped before the sweeper, the lease and the store (services stop in reverse order):
        // the bucket's leadership moves while this center's nats-server still runs.
        if configuration.isClusteredCenter {
            var lameDuck: (@Sendable () -> Void)?
            if let supervisor { lameDuck = { supervisor.enterLameDuckMode() } }
            services.append(LeadershipHandover(store: store, serverName: configuration.nodeID, lameDuck: lameDuck))
        }
        return StoreParts(store: store, sweeper: sweeper, lease: lease, services: services)
    }
}
