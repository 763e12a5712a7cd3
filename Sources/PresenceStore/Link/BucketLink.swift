import Logging
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore

/// A node's link to its presence bucket: binds it (retrying for as long as it runs), keeps
/// the replica current from a KV watcher, and probes the bucket's JetStream server. Every
/// rule lives in one ``BucketLinkStateMachine`` under one lock; this type does the I/O the
/// machine asks for and nothing else. ``NATSPresenceStore`` reads and writes through it.
///
/// The watcher's initial values mark the replica complete. After a reconnect the watcher is
/// recreated at once (nats.c alone would take ~9 s to notice) and the replica
/// resynchronises from the bucket; a watcher error also leads to a new watcher. Every
/// resynchronisation converges to the bucket exactly: records the bucket no longer holds are
/// dropped, and a bucket that was recreated or restored from an older copy (another creation
/// time, or a last revision below one already applied) makes the replica start afresh.
final class BucketLink: Sendable {
    typealias Machine = BucketLinkStateMachine<Link, KeyValueWatcher>

    /// The connection and the bucket, once bound.
    struct Link: Sendable {
        let connection: NATSConnection
        /// For reads, writes and probes (the request time-out).
        let bucket: KeyValueBucket
        /// For the watcher (a longer time-out for its set-up).
        let watchBucket: KeyValueBucket
    }

    let replica: PresenceReplica
    let configuration: PresenceStoreConfiguration
    let metrics: StoreMetrics
    let logger: Logger
    let machine: NIOLockedValueBox<Machine>
    /// The highest revision the current watcher delivered. Not machine state: the watcher's
    /// thread writes it on every event and the probe reads it; the probe hands it to the machine.
    let delivered = NIOLockedValueBox<UInt64>(0)
    /// Where the current watcher's initial load spends its time (only its thread writes it).
    let loadTiming = NIOLockedValueBox(ReplicaLoadTiming())
    /// Who waits for the watch loop to end (see ``feedReplica()``).
    let watchLoopEnd = NIOLockedValueBox(WatchLoopEnd())
    /// The heartbeat plane on the bound connection.
    let plane: HeartbeatPlane
    /// When a center next tries to create the audit stream; nil once it exists (SPEC §3c).
    let auditStreamDue = NIOLockedValueBox<ContinuousClock.Instant?>(.now)

    init(
        replica: PresenceReplica, configuration: PresenceStoreConfiguration, metrics: StoreMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.replica = replica
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.machine = NIOLockedValueBox(
            Machine(isCenter: configuration.domain == nil, serverName: configuration.domain == nil ? configuration.nodeID : nil))
        self.plane = HeartbeatPlane(
            replica: replica, nodeID: configuration.nodeID, bucket: configuration.bucket, metrics: metrics.heartbeats,
            logger: logger, clock: clock)
    }

    /// Binds (retrying for as long as it runs), then feeds the replica from the watcher and
    /// probes the hub until ``stop()`` or cancellation; closes the connection at the end.
    func run() async {
        await withTaskCancellationHandler {
            if await bindUntilBound(), let connection = bound?.connection {
                await plane.listen(on: connection)
                // A center that traces: the spans of traced writes reaching it (held until the end).
                var arrivals: [NATSSubscription] = []
                if let tracer = configuration.tracer, configuration.domain == nil {
                    arrivals = await ArrivalTracing(tracer: tracer, bucket: configuration.bucket)
                        .subscribe(on: connection, logger: logger)
                }
                defer { withExtendedLifetime(arrivals) {} }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.plane.send(on: connection) }
                    group.addTask { await self.feedReplica() }
                    group.addTask { await self.probeHub() }
                    await group.next()
                    group.cancelAll()
                }
            }
        } onCancel: {
            stop()
        }
        stop()
        let link = machine.withLockedValue { machine -> Link? in
            guard case .stopped(let link) = machine.state else { return nil }
            return link
        }
        await link?.connection.close()
    }

    /// Binds, retrying until `deadline`, for tools and tests that need the bucket at once
    /// (``run()`` then starts the watcher, the probe and the heartbeat plane).
    func bind(before deadline: ContinuousClock.Instant) async throws {
        var lastError: any Error = NATSError.poolUnavailable
        while ContinuousClock.now < deadline {
            do {
                try Task.checkCancellation()
                try await bindOnce()
                return
            } catch {
                lastError = error
                if error is CancellationError { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError
    }

    /// Stops the watcher and lets ``run()`` return at once.
    func stop() {
        machine.withLockedValue { $0.stop() }?.stop()
        endWatchLoop()
    }

    /// Whether this node is a leaf (its bucket is the hub's, across a leafnode link).
    var isLeaf: Bool { configuration.domain != nil }

    /// Whether the bucket's JetStream server answered the last probe.
    var isHubReachable: Bool { machine.withLockedValue { $0.isHubReachable } }

    /// The bound link, nil before the bind and after the stop.
    var bound: Link? { machine.withLockedValue { $0.link } }

    /// Binds the bucket, retrying with a growing pause until it works or the link is
    /// stopped; logs the cause once per change of cause, not per attempt.
    /// - Returns: whether the link is bound.
    private func bindUntilBound() async -> Bool {
        while !Task.isCancelled {
            let (bound, stopped) = machine.withLockedValue { ($0.link != nil, $0.isStopped) }
            if bound { return true }  // bound already (``bind(before:)``)
            if stopped { return false }
            do {
                try await bindOnce()
                return machine.withLockedValue { $0.link != nil }
            } catch {
                let cause = Self.describe(error)
                switch machine.withLockedValue({ $0.bindFailed(cause: cause) }) {
                case .giveUp:
                    return false
                case .retry(let pause, let logCause):
                    if logCause {
                        logger.warning(
                            "cannot reach the presence bucket yet; serving HTTP and retrying",
                            metadata: ["cause": "\(configuration.hubProblem?() ?? cause)"])
                    }
                    try? await Task.sleep(for: pause)
                }
            }
        }
        return false
    }

    /// One attempt to connect and bind the bucket.
    private func bindOnce() async throws {
        let configuration = configuration
        // Events of a connection that failed to bind are not the node's: only the bound one reports.
        let bound = NIOLockedValueBox(false)
        let connection = try await NATSConnection.connect(options: configuration.connectionOptions) { [weak self] event in
            if bound.withLockedValue({ $0 }) { self?.connectionChanged(event) }
        }
        let link: Link
        let bucketState: StreamState
        var grewAt: ContinuousClock.Instant?
        do {
            let js = try connection.jetStream(domain: configuration.domain, timeout: configuration.requestTimeout)
            let bucket = try await js.keyValue(configuration.bucketConfiguration)
            if configuration.domain == nil {
                // A center: the bucket must not take roll-up headers, or one publish from any
                // leaf could purge it (the service never rolls up or purges).
                try await bucket.refuseRollups()
                // Before the state is read, so that it shows the grown group (and its leader).
                grewAt = .now
                await growReplicas(bucket)
                auditStreamDue.withLockedValue { $0 = .now }
                await addAuditStreamIfDue(js)
            }
            // The watcher gets its own context with a longer timeout: over a million keys,
            // nats-server 2.9 takes seconds to set up a last-value-per-key consumer, and
            // a watcher that gave up early would leave that consumer running and retry,
            // piling work on the hub. Not much longer: an answer lost while the leaf
            // connection flaps (a center restarting) holds the replica for the whole wait.
            let watchJS = try connection.jetStream(domain: configuration.domain, timeout: configuration.watcherSetupTimeout)
            link = Link(connection: connection, bucket: bucket, watchBucket: try await watchJS.keyValue(configuration.bucketConfiguration))
            bucketState = try await bucket.state(timeout: configuration.requestTimeout)
        } catch {
            await connection.close()
            throw error
        }
        guard machine.withLockedValue({ $0.bound(link, bucketState: bucketState, grewAt: grewAt) }) == .run else {
            // Stopped meanwhile (or bound by another attempt): this connection is not the node's.
            await connection.close()
            return
        }
        bound.withLockedValue { $0 = true }
        logger.info(
            "connected to the presence bucket",
            metadata: ["bucket": "\(configuration.bucket)", "nats": "\(configuration.natsURLs.joined(separator: ","))"])
    }

    /// On a center, creates the audit stream (SPEC §3c) or applies its retention and copies to
    /// the one there, when due: at every bind, and after a failure every
    /// ``BucketLinkStateMachine/growRetryInterval`` from the probe (a cluster still forming
    /// refuses it). A failure is logged, never fatal: presence works without its audit.
    func addAuditStreamIfDue(_ js: JetStream) async {
        guard configuration.auditEnabled, configuration.domain == nil else { return }
        let due = auditStreamDue.withLockedValue { due -> Bool in
            guard let next = due, next <= .now else { return false }
            due = .now + Machine.growRetryInterval  // no second try meanwhile
            return true
        }
        guard due else { return }
        if await addAuditStream(js) { auditStreamDue.withLockedValue { $0 = nil } }
    }

    /// Creates or updates the audit stream; whether it exists now.
    private func addAuditStream(_ js: JetStream) async -> Bool {
        let stream = AuditLog.streamConfiguration(configuration)
        do {
            if try await js.addStream(stream) {
                logger.info("created the audit stream", metadata: ["stream": "\(stream.name)", "replicas": "\(stream.replicas)"])
            }
            return true
        } catch {
            logger.warning(
                "the audit stream cannot be created or updated yet; retrying (changes meanwhile are gaps)",
                metadata: ["stream": "\(stream.name)", "error": "\(error)"])
            return false
        }
    }

    /// Called on a nats.c thread when the bound connection changes.
    private func connectionChanged(_ event: NATSConnection.Event) {
        switch event {
        case .disconnected: handle { $0.connectionLost() }
        case .reconnected: handle { $0.reconnected() }
        case .closed: break
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? NATSError else { return "\(error)" }
        if error.isNoResponders {
            return "no JetStream server answers (for a leaf: the hub is not connected)"
        }
        return error.description
    }
}
