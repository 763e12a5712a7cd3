import Logging
import NATSClient
import PresenceCore
import ServiceLifecycle
import NIOConcurrencyHelpers

/// The presence store on NATS JetStream KV: reads from the in-memory replica, writes with
/// compare-and-set to the bucket, a watcher on its own thread keeping the replica current.
///
/// Create it with ``init(configuration:logger:changes:metrics:clock:)`` (no I/O) and run it as
/// a service: ``run()`` connects to NATS and binds the bucket, retrying for as long as it runs
/// (the node serves HTTP meanwhile and reports why it is not ready), then feeds the replica
/// until graceful shutdown. ``connect(configuration:logger:changes:metrics:clock:)`` binds
/// first, for tools and tests.
public final class NATSPresenceStore: PresenceRepository, Service {
    /// The replica that answers reads.
    public let replica: PresenceReplica
    let configuration: PresenceStoreConfiguration
    let logger: Logger
    let feed: ReplicaFeed
    let metrics: StoreMetrics
    let clock: @Sendable () -> Timestamp
    let state = NIOLockedValueBox(State())

    /// The connection and the bucket, once bound.
    struct Link: Sendable {
        let connection: NATSConnection
        let bucket: KeyValueBucket
    }

    struct State {
        var link: Link?
        /// Why the last attempt to bind failed (nil once bound).
        var bindFailure: String?
        /// The bucket's state as the last probe found it.
        var bucketState: StreamState?
        /// When a center last tried to grow the bucket's replicas.
        var lastGrowAttempt: ContinuousClock.Instant?
        /// Whether JetStream refused writes for lack of storage lately.
        var storageRefusals = StorageRefusals()
    }

    /// A store that is not connected yet; ``run()`` connects it.
    /// - Parameters:
    ///   - changes: receives every change the replica applies (for live streams).
    ///   - metrics: where KV latency and watcher events are recorded.
    public init(
        configuration: PresenceStoreConfiguration, logger: Logger, changes: PresenceChangeHub? = nil,
        metrics: StoreMetrics = .unregistered(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        var onChange: (@Sendable (StoredPresence) -> Void)?
        if let changes { onChange = { changes.publish($0) } }
        let replica = PresenceReplica(
            maxCost: configuration.cacheMaxCost, negativeTTLSeconds: configuration.negativeTTLSeconds,
            onChange: onChange, tracksExpiry: configuration.tracksExpiry,
            retentionSeconds: configuration.tracksExpiry ? configuration.retentionSeconds : nil)
        self.replica = replica
        self.configuration = configuration
        self.logger = logger
        self.feed = ReplicaFeed(replica: replica, metrics: metrics, logger: logger, hubProblem: configuration.hubProblem)
        self.metrics = metrics
        self.clock = clock
    }

    /// Connects to NATS and binds (or creates) the bucket, retrying until the configured
    /// deadline. Run the store as a service afterwards to feed its replica.
    public static func connect(
        configuration: PresenceStoreConfiguration, logger: Logger, changes: PresenceChangeHub? = nil,
        metrics: StoreMetrics = .unregistered(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) async throws -> NATSPresenceStore {
        let store = NATSPresenceStore(
            configuration: configuration, logger: logger, changes: changes, metrics: metrics, clock: clock)
        let deadline = ContinuousClock.now + configuration.connectDeadline
        var lastError: any Error = NATSError.poolUnavailable
        while ContinuousClock.now < deadline {
            do {
                try Task.checkCancellation()
                try await store.bind()
                return store
            } catch {
                lastError = error
                if error is CancellationError { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError
    }

    /// One attempt to connect and bind the bucket; on success the watcher can start.
    private func bind() async throws {
        let configuration = configuration
        let feed = feed
        // Events of a connection that failed to bind are not the node's: only the bound one reports.
        let bound = NIOLockedValueBox(false)
        var options = NATSConnectionOptions(urls: configuration.natsURLs, name: configuration.nodeID)
        options.user = configuration.user
        options.password = configuration.password
        options.token = configuration.token
        options.inboxPrefix = configuration.inboxPrefix
        let connection = try await NATSConnection.connect(options: options) { event in
            if bound.withLockedValue({ $0 }) { feed.connectionChanged(event) }
        }
        let link: Link
        do {
            let js = try connection.jetStream(domain: configuration.domain, timeout: configuration.requestTimeout)
            var bucketConfig = KeyValueConfiguration(bucket: configuration.bucket)
            bucketConfig.replicas = configuration.replicas
            // A leaf never creates the bucket: its centers do, with their replicas.
            bucketConfig.createIfMissing = configuration.domain == nil
            let bucket = try await js.keyValue(bucketConfig)
            if configuration.domain == nil {
                // A center: the bucket must not take roll-up headers, or one publish from any
                // leaf could purge it (the service never rolls up or purges).
                try await bucket.refuseRollups()
                await growReplicasIfNeeded(bucket, bucketReplicas: nil)
            }
            // The watcher gets its own context with a longer timeout: over a million keys,
            // nats-server 2.9 takes seconds to set up a last-value-per-key consumer, and
            // a watcher that gave up early would leave that consumer running and retry,
            // piling work on the hub. Not much longer: an answer lost while the leaf
            // connection flaps (a center restarting) holds the replica for the whole wait.
            let watchJS = try connection.jetStream(domain: configuration.domain, timeout: configuration.watcherSetupTimeout)
            feed.attach(bucket: try await watchJS.keyValue(bucketConfig))
            link = Link(connection: connection, bucket: bucket)
            let bucketState = try await bucket.state(timeout: configuration.requestTimeout)
            state.withLockedValue { $0.bucketState = bucketState }
        } catch {
            await connection.close()
            throw error
        }
        bound.withLockedValue { $0 = true }
        state.withLockedValue {
            $0.link = link
            $0.bindFailure = nil
        }
        logger.info(
            "connected to the presence bucket",
            metadata: ["bucket": "\(configuration.bucket)", "nats": "\(configuration.natsURLs.joined(separator: ","))"])
    }

    /// Binds the bucket, retrying with a growing pause until it works or the feed is
    /// stopped; logs the cause once per change of cause, not per attempt.
    /// - Returns: whether the store is bound.
    private func bindUntilBound() async -> Bool {
        var pause = Duration.milliseconds(100)
        while state.withLockedValue({ $0.link == nil }) {
            guard !feed.isStopped, !Task.isCancelled else { return false }
            do {
                try await bind()
            } catch {
                let cause = Self.describe(error)
                let changed = state.withLockedValue { state in
                    defer { state.bindFailure = cause }
                    return state.bindFailure != cause
                }
                if changed {
                    logger.warning(
                        "cannot reach the presence bucket yet; serving HTTP and retrying",
                        metadata: ["cause": "\(configuration.hubProblem?() ?? cause)"])
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
        return true
    }

    /// Connects (retrying for as long as it runs), then feeds the replica from the watcher
    /// and probes the hub until graceful shutdown or cancellation.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                guard await bindUntilBound() else { return }
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
        await state.withLockedValue { $0.link }?.connection.close()
    }

    /// Checks every `hubProbeInterval` that the bucket's JetStream server answers, so a leaf
    /// knows at once when it lost the hub and when the hub is back, and that the bucket is
    /// still the one the replica mirrors (not recreated, not restored from an older copy).
    private func probeHub() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.hubProbeInterval)
            } catch {
                return
            }
            guard let bucket = state.withLockedValue({ $0.link?.bucket }) else { continue }
            let timeout = configuration.hubProbeTimeout
            // Read before asking: every revision applied by then is in the answer's bucket.
            let (generation, highestBefore) = replica.revisionStamp
            let deliveredBefore = feed.deliveredRevision
            do {
                let bucketState = try await bucket.state(timeout: timeout)
                state.withLockedValue { $0.bucketState = bucketState }
                feed.probeAnswered(
                    bucketState, highestRevisionBefore: highestBefore, generation: generation,
                    deliveredBefore: deliveredBefore)
                if configuration.domain == nil {
                    await growReplicasIfNeeded(bucket, bucketReplicas: bucketState.replicas)
                }
                await probeStorageIfRefused(bucket)
            } catch let error where error.isStreamNotFound && configuration.domain == nil {
                // A center whose bucket was deleted while it runs: create it again (the new,
                // empty bucket then rebuilds the replica); a leaf waits for its center to do so.
                logger.warning("the presence bucket is gone; creating it again")
                feed.probeFailed(noResponders: true)
                var recreated = KeyValueConfiguration(bucket: configuration.bucket)
                recreated.replicas = configuration.replicas
                let bucketConfig = recreated
                do {
                    try await bucket.recreateIfMissing(bucketConfig)
                    try await bucket.refuseRollups()
                } catch {
                    logger.warning("cannot create the presence bucket again", metadata: ["error": "\(error)"])
                }
            } catch {
                feed.probeFailed(noResponders: error.isNoResponders || error.isStreamNotFound)
            }
        }
    }

    /// While JetStream refuses writes for lack of storage, a small write every few seconds
    /// finds out when it takes them again (``StorageRefusals``).
    private func probeStorageIfRefused(_ bucket: KeyValueBucket) async {
        guard state.withLockedValue({ $0.storageRefusals.takeProbe(now: .now) }) else { return }
        do {
            _ = try await bucket.put(StorageRefusals.probeKey, value: Array(configuration.nodeID.utf8), expecting: .any)
            state.withLockedValue { $0.storageRefusals.stored() }
            logger.notice("JetStream takes writes again")
        } catch {
            if error.isInsufficientStorage { state.withLockedValue { $0.storageRefusals.refused(at: .now) } }
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
        let bucket = try writableBucket()
        let key = UserKeyCodec.key(for: user)
        var plan = WritePlanner(
            change: change, user: user, ifMatch: ifMatch, nodeID: configuration.nodeID,
            replicaRecord: try await presence(of: user)?.userPresence, retryDeadline: configuration.writeRetryDeadline,
            maxSessions: configuration.maxSessions)
        return try await plan.run(now: clock) { () throws(PresenceError) in
            try await fetch(user)?.userPresence
        } write: { record, expecting throws(PresenceError) in
            let started = ContinuousClock.now
            let generation = replica.generation
            do throws(NATSError) {
                let value = UserPresenceJSON.encodeValue(record)
                let revision: UInt64
                switch expecting {
                case .noRecord: revision = try await putFirst(bucket, key, value)
                case .revision(let expected): revision = try await bucket.put(key, value: value, expecting: .revision(expected))
                }
                metrics.putOK.record(ContinuousClock.now - started)
                state.withLockedValue { $0.storageRefusals.stored() }
                let result = StoredPresence(record.stored(at: revision), encodedValue: value)
                replica.apply(result, ifGeneration: generation)
                return result
            } catch let error where error.isWrongLastSequence {
                metrics.putConflict.record(ContinuousClock.now - started)
                metrics.putConflicts.increment()
                logger.debug("write lost a race", metadata: ["user": "\(user)"])
                return nil
            } catch {
                metrics.putError.record(ContinuousClock.now - started)
                throw writeFailed(error)
            }
        }
    }

    /// Drops a record untouched for the retention period, if it is still at `revision` (a
    /// write since wins): a delete marker, which every node's watcher applies.
    /// - Returns: whether it was dropped.
    public func drop(_ user: UserID, revision: UInt64) async throws(PresenceError) -> Bool {
        let bucket = try writableBucket()
        do {
            let marker = try await bucket.delete(UserKeyCodec.key(for: user), expectingRevision: revision)
            state.withLockedValue { $0.storageRefusals.stored() }
            replica.remove(user, revision: marker)
            return true
        } catch let error where error.isWrongLastSequence {
            return false
        } catch {
            throw writeFailed(error)
        }
    }

    /// Stores a user's first record: where no value is, or on the delete marker a dropped
    /// record left (compare-and-set on the marker's revision), as `kvStore_Create` does.
    private func putFirst(_ bucket: KeyValueBucket, _ key: String, _ value: [UInt8]) async throws(NATSError) -> UInt64 {
        do {
            return try await bucket.put(key, value: value, expecting: .noValue)
        } catch let error where error.isWrongLastSequence {
            // A value there means the race was lost; only a marker is written over.
            guard let marker = try await bucket.deleteMarkerRevision(of: key) else { throw error }
            return try await bucket.put(key, value: value, expecting: .revision(marker))
        }
    }

    public func readiness() -> Readiness {
        let own = storeReadiness()
        guard own.isReady, let work = configuration.pendingWork?() else { return own }
        return .notReady(work)
    }

    /// Whether the store itself can serve: bound, connected, the replica loaded, the bucket
    /// led; ``readiness()`` also waits for ``PresenceStoreConfiguration/pendingWork``.
    public func storeReadiness() -> Readiness {
        if let problem = configuration.storageProblem?() { return .notReady(problem) }
        let (link, refusal) = state.withLockedValue { ($0.link, $0.storageRefusals.problem) }
        if let refusal { return .notReady(refusal) }
        guard let link else { return .notReady(notBoundReason()) }
        guard link.connection.isConnected else { return .notReady("the NATS connection is down; reconnecting") }
        let feedReadiness = feed.readiness()
        guard feedReadiness.isReady else { return feedReadiness }
        return clusterReadiness()
    }

    /// Facts about the NATS connection for `/health/info`.
    public var connectionInfo: (connected: Bool, url: String?, reconnects: UInt64) {
        guard let connection = state.withLockedValue({ $0.link?.connection }) else { return (false, nil, 0) }
        return (connection.isConnected, connection.connectedURL, connection.reconnects)
    }

    // MARK: Helpers

    /// The bucket, when a write can be sent at all; fails fast (certainly not applied) when
    /// the store is not bound, the hub is known to be unreachable or the storage is full.
    private func writableBucket() throws(PresenceError) -> KeyValueBucket {
        if configuration.storageProblem?() != nil {
            throw PresenceError(.insufficientStorage, "the presence store is out of space; the write was not applied")
        }
        guard let bucket = state.withLockedValue({ $0.link?.bucket }) else {
            throw PresenceError(.unavailable, "the presence store cannot be reached yet; the write was not applied", retryAfter: 1)
        }
        guard feed.isHubReachable else {
            throw PresenceError(
                .unavailable, "the presence store (hub) is not reachable; the write was not applied", retryAfter: 1)
        }
        return bucket
    }

    /// Reads a user's record from the bucket and puts the answer into the replica.
    private func fetch(_ user: UserID) async throws(PresenceError) -> StoredPresence? {
        guard let bucket = state.withLockedValue({ $0.link?.bucket }) else {
            throw PresenceError(.unavailable, "the presence store cannot be reached yet; try again shortly", retryAfter: 1)
        }
        let key = UserKeyCodec.key(for: user)
        let entry: KeyValueEntry?
        let started = ContinuousClock.now
        do {
            entry = try await bucket.get(key)
            metrics.getOK.record(ContinuousClock.now - started)
        } catch {
            metrics.getError.record(ContinuousClock.now - started)
            logger.warning("presence store read failed", metadata: ["error": "\(error)"])
            if error.isNoResponders { feed.requestFoundNoResponders() }
            throw PresenceError(.unavailable, "the presence store cannot be reached; try again shortly", retryAfter: 1)
        }
        guard let entry, entry.operation == .put,
            let stored = StoredPresence(decoding: entry.value, revision: entry.revision)
        else {
            replica.rememberAbsent(user, now: clock())
            return nil
        }
        replica.apply(stored)
        return stored
    }

    /// The honest answer to a failed write: 503 only when it certainly was not applied
    /// (never sent, nobody to receive it, or JetStream refused it), 507 when JetStream is out
    /// of storage, 504 when it was sent and no answer came (it may be stored).
    private func writeFailed(_ error: NATSError) -> PresenceError {
        logger.warning("presence store write failed", metadata: ["error": "\(error)"])
        if error.isInsufficientStorage {
            state.withLockedValue { $0.storageRefusals.refused(at: .now) }
            return PresenceError(.insufficientStorage, "the presence store is out of space; the write was not applied")
        }
        if error.wasNotSent || error.isNoResponders || error.jetStreamCode != 0 {
            if error.isNoResponders { feed.requestFoundNoResponders() }
            return PresenceError(
                .unavailable, "the presence store cannot be reached; the write was not applied", retryAfter: 1)
        }
        metrics.putOutcomeUnknown.increment()
        return PresenceError(
            .outcomeUnknown,
            "the write was sent but not acknowledged in time; it may or may not be stored: read the presence to see")
    }

    /// Why the store is not bound yet, in an operator's words.
    private func notBoundReason() -> String {
        if let problem = configuration.hubProblem?() { return "the hub is not reachable: \(problem)" }
        let failure = state.withLockedValue { $0.bindFailure }
        let target = configuration.natsURLs.joined(separator: ",")
        guard let failure else { return "connecting to NATS at \(target)" }
        return "cannot reach the presence bucket through NATS at \(target): \(failure)"
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? NATSError else { return "\(error)" }
        if error.isNoResponders {
            return "no JetStream server answers (for a leaf: the hub is not connected)"
        }
        return error.description
    }
}
