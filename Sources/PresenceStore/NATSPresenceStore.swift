import Logging
import NATSClient
import NIOPosix
import PresenceCore
import ServiceLifecycle
import Synchronization

/// The presence store on NATS JetStream KV: reads from the in-memory replica, writes with
/// compare-and-set to the bucket, a watcher on its own thread keeping the replica current.
///
/// Create it with ``connect(configuration:logger:)`` and run it as a service: ``run()``
/// feeds the replica until graceful shutdown.
public final class NATSPresenceStore: PresenceRepository, Service {
    /// The replica that answers reads.
    public let replica: PresenceReplica
    let configuration: PresenceStoreConfiguration
    let connection: NATSConnection
    let bucket: KeyValueBucket
    let logger: Logger
    let pool: NIOThreadPool
    let feed: ReplicaFeed
    let metrics: StoreMetrics
    let clock: @Sendable () -> Timestamp

    private init(
        configuration: PresenceStoreConfiguration, connection: NATSConnection, bucket: KeyValueBucket,
        replica: PresenceReplica, pool: NIOThreadPool, feed: ReplicaFeed, metrics: StoreMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.metrics = metrics
        self.configuration = configuration
        self.connection = connection
        self.bucket = bucket
        self.replica = replica
        self.pool = pool
        self.feed = feed
        self.logger = logger
        self.clock = clock
    }

    /// Connects to NATS and binds (or creates) the bucket, retrying until the configured deadline.
    /// - Parameters:
    ///   - changes: receives every change the replica applies (for live streams).
    ///   - metrics: where KV latency and watcher events are recorded.
    public static func connect(
        configuration: PresenceStoreConfiguration, logger: Logger, changes: PresenceChangeHub? = nil,
        metrics: StoreMetrics = .unregistered(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) async throws -> NATSPresenceStore {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        var onChange: (@Sendable (StoredPresence) -> Void)?
        if let changes { onChange = { changes.publish($0) } }
        let replica = PresenceReplica(
            maxCost: configuration.cacheMaxCost, negativeTTLSeconds: configuration.negativeTTLSeconds,
            onChange: onChange, tracksExpiry: configuration.tracksExpiry)
        let feed = ReplicaFeed(replica: replica, metrics: metrics, logger: logger)
        let deadline = ContinuousClock.now + configuration.connectDeadline
        var lastError: any Error = NATSError.poolUnavailable
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            do {
                let (connection, bucket, watchBucket) = try await pool.runIfActive {
                    var options = NATSConnectionOptions(urls: configuration.natsURLs, name: configuration.nodeID)
                    options.user = configuration.user
                    options.password = configuration.password
                    options.token = configuration.token
                    let connection = try NATSConnection(options: options) { event in feed.connectionChanged(event) }
                    let js = try connection.jetStream(domain: configuration.domain, timeout: configuration.requestTimeout)
                    var bucketConfig = KeyValueConfiguration(bucket: configuration.bucket)
                    bucketConfig.replicas = configuration.replicas
                    let bucket = try js.keyValue(bucketConfig)
                    // The watcher gets its own context with a long timeout: over a million keys,
                    // nats-server 2.9 takes seconds to set up a last-value-per-key consumer, and
                    // a watcher that gave up early would leave that consumer running and retry,
                    // piling work on the hub.
                    let watchJS = try connection.jetStream(domain: configuration.domain, timeout: configuration.watcherSetupTimeout)
                    return (connection, bucket, try watchJS.keyValue(bucketConfig))
                }
                feed.attach(bucket: watchBucket)
                logger.info(
                    "connected to the presence bucket",
                    metadata: ["bucket": "\(configuration.bucket)", "nats": "\(configuration.natsURLs.joined(separator: ","))"])
                return NATSPresenceStore(
                    configuration: configuration, connection: connection, bucket: bucket, replica: replica, pool: pool,
                    feed: feed, metrics: metrics, logger: logger, clock: clock)
            } catch {
                lastError = error
                logger.debug("bucket not reachable yet", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try? await pool.shutdownGracefully()
        throw lastError
    }

    /// Feeds the replica from the watcher until graceful shutdown or cancellation.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.feed.run() }
                    group.addTask { await self.probeHub() }
                    await group.next()
                    group.cancelAll()
                }
            } onCancel: {
                feed.stop()
            }
        } onGracefulShutdown: {
            self.feed.stop()
        }
        connection.close()
        try? await pool.shutdownGracefully()
    }

    /// Checks every `hubProbeInterval` that the bucket's JetStream server answers, so a leaf
    /// knows at once when it lost the hub and when the hub is back.
    private func probeHub() async {
        var slowAnswers = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.hubProbeInterval)
            } catch {
                return
            }
            let timeout = configuration.hubProbeTimeout
            do {
                try await blocking { [bucket] () throws(NATSError) in try bucket.ping(timeout: timeout) }
                slowAnswers = 0
                feed.hubReachabilityChanged(true)
            } catch {
                // "No responders" means the hub is gone: say so at once. A timeout may be a hub
                // that is only busy (say, setting up a watcher over a million keys): three in a row.
                slowAnswers += 1
                if error.isNoResponders || slowAnswers >= 3 {
                    feed.hubReachabilityChanged(false, definitive: error.isNoResponders)
                }
            }
        }
    }

    /// Whether the bucket's JetStream server answered the last probe.
    public var isHubReachable: Bool { feed.isHubReachable }

    // MARK: PresenceRepository

    public func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? {
        switch replica.lookup(user, now: clock()) {
        case .found(let stored): return stored
        case .absent: return nil
        case .unknown: return try await fetch(user)
        }
    }

    public func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    {
        let key = UserKeyCodec.key(for: user)
        var current = try await presence(of: user)?.record
        // Whether `current` was read from the bucket itself rather than from the replica,
        // which can lag behind writes made on other nodes.
        var confirmed = false
        for attempt in 0..<16 {
            if let ifMatch, !Self.matches(ifMatch, current) {
                // The replica can lag behind the bucket: confirm with the bucket before refusing.
                current = try await fetch(user)?.record
                confirmed = true
                guard Self.matches(ifMatch, current) else {
                    throw PresenceError(.preconditionFailed, "the record's revision does not match If-Match")
                }
            }
            let now = clock()
            let outcome = change.apply(to: current, user: user, now: now, nodeID: configuration.nodeID)
            if !confirmed, outcome.writesNothing {
                // Answers that write nothing must not rest on a lagging replica: confirm once.
                current = try await fetch(user)?.record
                confirmed = true
                continue
            }
            switch outcome {
            case .notFound:
                throw PresenceError(.notFound, "no presence record for this user")
            case .unchanged(let record):
                return StoredPresence(record)
            case .write(let record):
                let value = PresenceJSON.encodeValue(record)
                let expectation: KeyValueBucket.Expectation = current.map { .revision($0.revision) } ?? .noValue
                let started = ContinuousClock.now
                do {
                    let revision = try await bucket.put(key, value: value, expecting: expectation)
                    metrics.putOK.record(ContinuousClock.now - started)
                    var stored = record
                    stored.revision = revision
                    let result = StoredPresence(stored)
                    replica.apply(result)
                    return result
                } catch let error where error.isWrongLastSequence {
                    metrics.putOK.record(ContinuousClock.now - started)
                    metrics.putConflicts.increment()
                    if ifMatch != nil {
                        throw PresenceError(.preconditionFailed, "the record changed since the revision in If-Match")
                    }
                    logger.debug("write lost a race; retrying", metadata: ["user": "\(user)", "attempt": "\(attempt)"])
                    current = try await fetch(user)?.record
                    confirmed = true
                } catch {
                    metrics.putError.record(ContinuousClock.now - started)
                    throw unavailable(error, operation: "write")
                }
            }
        }
        throw PresenceError(.unavailable, "too many concurrent writes to this user; try again", retryAfter: 1)
    }

    public func readiness() -> Readiness {
        guard connection.isConnected else { return .notReady("NATS connection is down") }
        return feed.readiness()
    }

    /// Facts about the NATS connection for `/health/info`.
    public var connectionInfo: (connected: Bool, url: String?, reconnects: UInt64) {
        (connection.isConnected, connection.connectedURL, connection.reconnects)
    }

    // MARK: Helpers

    /// Reads a user's record from the bucket and puts the answer into the replica.
    private func fetch(_ user: UserID) async throws(PresenceError) -> StoredPresence? {
        let key = UserKeyCodec.key(for: user)
        let entry: KeyValueEntry?
        let started = ContinuousClock.now
        do {
            entry = try await blocking { [bucket] () throws(NATSError) in try bucket.get(key) }
            metrics.getOK.record(ContinuousClock.now - started)
        } catch {
            metrics.getError.record(ContinuousClock.now - started)
            throw unavailable(error, operation: "read")
        }
        guard let entry, entry.operation == .put,
            let record = PresenceJSON.decodeValue(entry.value, revision: entry.revision)
        else {
            replica.rememberAbsent(user, now: clock())
            return nil
        }
        let stored = StoredPresence(record)
        replica.apply(stored)
        return stored
    }

    private static func matches(_ match: RevisionMatch, _ current: PresenceRecord?) -> Bool {
        switch match {
        case .any: return current != nil
        case .revision(let revision): return current?.revision == revision
        case .oneOf(let revisions): return current.map { revisions.contains($0.revision) } ?? false
        case .none: return false
        }
    }

    private func unavailable(_ error: NATSError, operation: String) -> PresenceError {
        logger.warning("presence store \(operation) failed", metadata: ["error": "\(error)"])
        if error.isNoResponders { feed.hubReachabilityChanged(false) }
        return PresenceError(.unavailable, "the presence store cannot be reached; try again shortly", retryAfter: 1)
    }

    /// Runs a blocking nats.c call on the store's thread pool.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(NATSError) -> T) async throws(NATSError) -> T {
        do {
            return try await pool.runIfActive { try body() }
        } catch let error as NATSError {
            throw error
        } catch {
            throw NATSError.poolUnavailable
        }
    }
}
