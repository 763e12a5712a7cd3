import Logging
import NATSClient
import PresenceCore
import ServiceLifecycle
import NIOConcurrencyHelpers
import Tracing

/// The presence store on NATS JetStream KV: reads from the in-memory replica, writes with
/// compare-and-set to the bucket; its ``BucketLink`` binds the bucket and keeps the replica
/// current. This type is the repository: reads, writes, drops and the mapping of their errors.
///
/// Create it with ``init(configuration:logger:changes:metrics:clock:)`` (no I/O) and run it as
/// a service: ``run()`` connects to NATS and binds the bucket, retrying for as long as it runs
/// (the node serves HTTP meanwhile and reports why it is not ready), then feeds the replica
/// until graceful shutdown. ``connect(configuration:logger:changes:metrics:clock:)`` binds
/// first, for tools and tests.
public final class NATSPresenceStore: ExpiringPresenceRepository, Service {
    /// The replica that answers reads.
    public let replica: PresenceReplica
    let configuration: PresenceStoreConfiguration
    let logger: Logger
    /// The link to the bucket.
    let link: BucketLink
    let metrics: StoreMetrics
    let clock: @Sendable () -> Timestamp
    /// The spans of writes (none without ``PresenceStoreConfiguration/tracer``).
    let tracing: WriteTracing
    /// Writes failing for want of the bucket, and since when (``WriteTrouble``).
    let trouble = NIOLockedValueBox(WriteTrouble())
    /// The audit stream's appends and reads.
    let audit: AuditLog

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
            onChange: onChange)
        self.replica = replica
        self.configuration = configuration
        self.logger = logger
        self.link = BucketLink(replica: replica, configuration: configuration, metrics: metrics, logger: logger, clock: clock)
        self.metrics = metrics
        self.clock = clock
        self.audit = AuditLog(configuration: configuration, metrics: metrics, logger: logger)
        self.tracing = WriteTracing(tracer: configuration.tracer)
    }

    /// Connects to NATS and binds (or creates) the bucket, retrying until the configured
    /// deadline. Run the store as a service afterwards to feed its replica.
    public static func connect(
        configuration: PresenceStoreConfiguration, logger: Logger, changes: PresenceChangeHub? = nil,
        metrics: StoreMetrics = .unregistered(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) async throws -> NATSPresenceStore {
        let store = NATSPresenceStore(
            configuration: configuration, logger: logger, changes: changes, metrics: metrics, clock: clock)
        try await store.link.bind(before: .now + configuration.connectDeadline)
        return store
    }

    /// Connects (retrying for as long as it runs), then feeds the replica from the watcher
    /// and probes the hub until graceful shutdown (after sending the audit entries that wait)
    /// or cancellation.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await link.run()
        } onGracefulShutdown: {
            // The audit entries that wait go out while the connection is still there.
            Task {
                await self.audit.flush()
                self.link.stop()
            }
        }
    }

    /// Whether the bucket's JetStream server answered the last probe.
    public var isHubReachable: Bool { link.isHubReachable }

    /// The store's time (of writes and expiry).
    public var now: Timestamp { clock() }

    /// Tells `schedule` of every record the replica holds and every later change.
    public func feedExpiries(to schedule: ExpirySchedule) {
        replica.feedExpiries(to: schedule)
    }

    // MARK: PresenceRepository

    public func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? {
        switch replica.lookup(user, now: clock()) {
        case .found(let stored): return stored
        case .absent: return nil
        case .unknown: return try await fetch(user)
        }
    }

    /// Applies `change`; a change that certainly was not applied because the bucket could not
    /// be reached (503) is tried again, 50 ms after the first failure and up to 500 ms apart,
    /// while the trouble is younger than ``PresenceStoreConfiguration/unavailableRetryDeadline``
    /// and within that time of the request (``WriteTrouble``): a failover or a rolling restart
    /// costs the client a wait, not an error; a hub gone for longer is answered 503 at once.
    public func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    {
        let started = ContinuousClock.now
        var pause = Duration.milliseconds(50)
        while true {
            do {
                let stored = try await applyOnce(change, to: user, ifMatch: ifMatch)
                trouble.withLockedValue { $0.succeeded() }
                return stored
            } catch let failure where failure.code == .unavailable && mayTryAgain(after: pause, requestStarted: started) {
                metrics.unavailableRetries.increment()
                do {
                    try await Task.sleep(for: pause)
                } catch {
                    throw failure  // cancelled: the client gets the answer it would have got
                }
                pause = min(pause * 2, .milliseconds(500))
            }
        }
    }

    private func applyOnce(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    {
        if case .heartbeat(let session, _) = change, !configuration.durableHeartbeats {
            return try await heartbeat(session, change, to: user, ifMatch: ifMatch)
        }
        let bucket = try link.writableBucket()
        var plan = try await plan(change, to: user, ifMatch: ifMatch)
        var wrote = false
        let stored = try await plan.run(now: clock) { () throws(PresenceError) in
            try await fetch(user)?.userPresence
        } write: { record, expecting throws(PresenceError) in
            let stored = try await write(record, of: user, expecting: expecting, to: bucket)
            wrote = stored != nil
            return stored
        }
        if wrote { audit.append(change, before: plan.basis, after: stored, at: clock(), via: bucket.jetStream) }
        return stored
    }

    /// Entries of the audit trail (SPEC §3c).
    public func auditEntries(_ query: AuditQuery) async throws(PresenceError) -> AuditPage {
        try await audit.read(query, via: link.readableBucket().jetStream)
    }

    /// A heartbeat that costs no durable write (SPEC §3a): decided by the same plan as a
    /// write, then applied to the replica and queued for the heartbeat plane instead of
    /// stored. 503 when no other node would hear it. A user the replica does not hold (it
    /// evicted them) is written to the bucket as before.
    private func heartbeat(_ session: SessionID, _ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?)
        async throws(PresenceError) -> StoredPresence
    {
        try link.requireHeartbeatPlane()
        // The record the plan starts from, as the replica holds it.
        var basis = try await presence(of: user)
        // Most heartbeats: no condition, a live session in the single-record form, held by
        // the replica. The plan would come to the same record; this one is made without
        // decoding it. Anything else (or a record changed meanwhile) takes the plan.
        let now = clock()
        if ifMatch == nil, session == .defaultSession,
            let held = basis, let moved = held.movedInPlaceByHeartbeat(at: now, nodeID: configuration.nodeID),
            replica.replace(held, with: moved)
        {
            link.plane.enqueue(user: user, session: session, at: now)
            return moved
        }
        var plan = WritePlanner(
            change: change, user: user, ifMatch: ifMatch, nodeID: configuration.nodeID, replicaRecord: basis?.userPresence,
            retryDeadline: configuration.writeRetryDeadline, maxSessions: configuration.maxSessions)
        return try await plan.run(now: clock) { () throws(PresenceError) in
            basis = try await fetch(user)
            return basis?.userPresence
        } write: { record, expecting throws(PresenceError) in
            guard let time = record.session(session)?.updatedAt, let basis, replica.held(user) != nil else {
                return try await write(record, of: user, expecting: expecting, to: try link.writableBucket())
            }
            let refreshed = StoredPresence(record, heardAt: basis.heardStamp(after: time))
            // false: the held record changed since the plan read it; the plan reads again.
            guard replica.replace(basis, with: refreshed) else { return nil }
            link.plane.enqueue(user: user, session: session, at: time)
            return refreshed
        }
    }

    /// The plan of `change`, starting from the record the replica holds.
    private func plan(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> WritePlanner
    {
        WritePlanner(
            change: change, user: user, ifMatch: ifMatch, nodeID: configuration.nodeID,
            replicaRecord: try await presence(of: user)?.userPresence, retryDeadline: configuration.writeRetryDeadline,
            maxSessions: configuration.maxSessions)
    }

    /// Stores `record` with a compare-and-set on `expecting`; nil when the race was lost.
    private func write(
        _ record: UserPresence, of user: UserID, expecting: WritePlanner.Expectation, to bucket: KeyValueBucket
    ) async throws(PresenceError) -> StoredPresence? {
        let key = UserKeyCodec.key(for: user)
        let started = ContinuousClock.now
        let generation = replica.generation
        let value = UserPresenceJSON.encodeValue(record)
        let span = tracing.startWrite()
        defer { span?.end() }
        do throws(NATSError) {
            let revision: UInt64
            do {
                revision = try await put(value, key, expecting, to: bucket, span: span)
            } catch let error where !error.certainlyNotApplied && !error.isWrongLastSequence {
                revision = try await resolveUnknownOutcome(
                    of: value, key, expecting, to: bucket, after: error, sent: started, span: span)
            }
            metrics.putOK.record(ContinuousClock.now - started)
            link.writeStored()
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

    /// Notes a failure for want of the bucket; whether another try may start after `pause`
    /// (and, with `lasting`, take that long too) within the trouble's deadline.
    private func mayTryAgain(after pause: Duration, lasting: Duration = .zero, requestStarted: ContinuousClock.Instant) -> Bool {
        let now = ContinuousClock.now
        let deadline = trouble.withLockedValue { trouble in
            trouble.failed(at: now)
            return trouble.deadline(requestStarted: requestStarted, budget: configuration.unavailableRetryDeadline)
        }
        return now + pause + lasting <= deadline
    }

    /// One compare-and-set of `value` on `expecting` (traced under the write's `span`).
    private func put(
        _ value: [UInt8], _ key: String, _ expecting: WritePlanner.Expectation, to bucket: KeyValueBucket, span: (any Span)?
    ) async throws(NATSError) -> UInt64 {
        switch expecting {
        case .noRecord: return try await putFirst(bucket, key, value, span: span)
        case .revision(let expected):
            return try await tracing.put(bucket, key, value: value, expecting: .revision(expected), under: span)
        }
    }

    /// Finds out whether a write whose answer did not come was stored, by sending the same
    /// compare-and-set again (until ``PresenceStoreConfiguration/unavailableRetryDeadline``):
    /// stored now means the first was not; refused because the key moved means the first was
    /// stored when the key holds exactly `value` (its times and node make it this write's).
    /// Anything else stays unknown: the first error (504).
    private func resolveUnknownOutcome(
        of value: [UInt8], _ key: String, _ expecting: WritePlanner.Expectation, to bucket: KeyValueBucket, after first: NATSError,
        sent: ContinuousClock.Instant, span: (any Span)?
    ) async throws(NATSError) -> UInt64 {
        var pause = Duration.milliseconds(50)
        while mayTryAgain(after: pause, lasting: configuration.requestTimeout, requestStarted: sent) {
            metrics.unavailableRetries.increment()
            do {
                try await Task.sleep(for: pause)
            } catch {
                throw first
            }
            pause = min(pause * 2, .milliseconds(500))
            do {
                return try await put(value, key, expecting, to: bucket, span: span)
            } catch let error where error.isWrongLastSequence {
                // Read from the stream's leader: a direct get may come from a follower still
                // behind it, which would call a stored write unknown.
                guard let latest = try? await bucket.latestFromLeader(key), latest.value == value else { throw first }
                return latest.revision
            } catch {
                continue  // no answer again, or nobody to answer yet: says nothing of the first
            }
        }
        throw first
    }

    /// Drops a record untouched for the retention period, if it is still at `revision` (a
    /// write since wins): a delete marker, which every node's watcher applies.
    /// - Returns: whether it was dropped.
    public func drop(_ user: UserID, revision: UInt64) async throws(PresenceError) -> Bool {
        let bucket = try link.writableBucket()
        do {
            let marker = try await bucket.delete(UserKeyCodec.key(for: user), expectingRevision: revision)
            link.writeStored()
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
    private func putFirst(_ bucket: KeyValueBucket, _ key: String, _ value: [UInt8], span: (any Span)?)
        async throws(NATSError) -> UInt64
    {
        do {
            return try await tracing.put(bucket, key, value: value, expecting: .noValue, under: span)
        } catch let error where error.isWrongLastSequence {
            // A value there means the race was lost; only a marker is written over.
            guard let marker = try await bucket.deleteMarkerRevision(of: key) else { throw error }
            return try await tracing.put(bucket, key, value: value, expecting: .revision(marker), under: span)
        }
    }

    public func readiness() -> Readiness {
        let own = storeReadiness()
        guard own.isReady, let work = configuration.pendingWork?() else { return own }
        return .notReady(work)
    }

    /// Whether the store itself can serve (``BucketLink/readiness()``); ``readiness()`` also
    /// waits for ``PresenceStoreConfiguration/pendingWork``.
    public func storeReadiness() -> Readiness {
        link.readiness()
    }

    /// Facts about the NATS connection for `/health/info`.
    public var connectionInfo: (connected: Bool, url: String?, reconnects: UInt64) {
        guard let connection = link.bound?.connection else { return (false, nil, 0) }
        return (connection.isConnected, connection.connectedURL, connection.reconnects)
    }

    // MARK: Helpers

    /// Reads a user's record from the bucket and puts the answer into the replica.
    private func fetch(_ user: UserID) async throws(PresenceError) -> StoredPresence? {
        let bucket = try link.readableBucket()
        let key = UserKeyCodec.key(for: user)
        let entry: KeyValueEntry?
        let started = ContinuousClock.now
        do {
            entry = try await bucket.get(key)
            metrics.getOK.record(ContinuousClock.now - started)
        } catch {
            metrics.getError.record(ContinuousClock.now - started)
            logger.warning("presence store read failed", metadata: ["error": "\(error)"])
            if error.isNoResponders { link.requestFoundNoResponders() }
            throw PresenceError(.unavailable, "the presence store cannot be reached; try again shortly", retryAfter: 1)
        }
        guard let entry, entry.operation == .put,
            let stored = StoredPresence(decoding: entry.value, revision: entry.revision)
        else {
            replica.rememberAbsent(user, now: clock())
            return nil
        }
        // A user the replica did not hold (evicted, or not loaded yet): any heartbeats of
        // theirs went unheard here, so they are assumed alive from now for one TTL, as on a
        // node that just started (SPEC §3a); their next heartbeat then finds them held.
        let known = replica.held(user) == nil ? (stored.assumingAlive(since: clock()) ?? stored) : stored
        replica.apply(known)
        // What the replica holds: the record with the heartbeats this node heard since it was written.
        return replica.held(user) ?? known
    }

    /// The honest answer to a failed write: 503 only when it certainly was not applied
    /// (never sent, nobody to receive it, or JetStream refused it), 507 when JetStream is out
    /// of storage, 504 when it was sent and no answer came (it may be stored).
    private func writeFailed(_ error: NATSError) -> PresenceError {
        logger.warning("presence store write failed", metadata: ["error": "\(error)"])
        if error.isInsufficientStorage {
            link.storageRefused()
            return PresenceError(.insufficientStorage, "the presence store is out of space; the write was not applied")
        }
        if error.certainlyNotApplied {
            if error.isNoResponders { link.requestFoundNoResponders() }
            return PresenceError(
                .unavailable, "the presence store cannot be reached; the write was not applied", retryAfter: 1)
        }
        metrics.putOutcomeUnknown.increment()
        return PresenceError(
            .outcomeUnknown,
            "the write was sent but not acknowledged in time; it may or may not be stored: read the presence to see")
    }
}
