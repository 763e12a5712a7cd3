import NIOConcurrencyHelpers

/// A presence store in memory, for route tests and tools that need no NATS.
///
/// It keeps the store's rules rather than imitating them: every write is planned by the same
/// ``WritePlanner`` the NATS store drives and lands with a compare-and-set on the revision
/// read, so `If-Match` (`*`, one or several revisions), `not_found` for a heartbeat or delete
/// of a missing user, offline reads of expired records and the retry of lost races behave
/// alike. Revisions come from one counter for all users, like the sequence of a KV bucket's
/// stream, so they only grow.
///
/// Thread-safe: the records live behind a lock (`NIOLockedValueBox`); a write reads, plans and then stores only
/// if the record is still at the revision it read, exactly as concurrent nodes would.
public final class MemoryPresenceRepository: ExpiringPresenceRepository {
    private struct State {
        var records: [UserID: StoredPresence] = [:]
        var lastRevision: UInt64 = 0
        var readiness = Readiness.ready
        var expirySchedule: ExpirySchedule?
        /// The audit trail, oldest first.
        var audit: [AuditEntry] = []
    }

    private let state = NIOLockedValueBox(State())
    private let nodeID: String
    private let changes: PresenceChangeHub?
    private let retryDeadline: Duration
    private let maxSessions: Int
    private let clock: @Sendable () -> Timestamp

    /// An empty repository.
    /// - Parameters:
    ///   - nodeID: the `node_id` its writes record.
    ///   - changes: receives every stored record (for live streams), as the NATS store's
    ///     replica publishes it.
    ///   - retryDeadline: how long a write without `If-Match` retries lost races (then 503).
    ///   - maxSessions: `presence.max_sessions`.
    ///   - clock: the time of writes and expiry.
    public init(
        nodeID: String = "memory", changes: PresenceChangeHub? = nil, retryDeadline: Duration = .seconds(5),
        maxSessions: Int, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        self.maxSessions = maxSessions
        self.nodeID = nodeID
        self.changes = changes
        self.retryDeadline = retryDeadline
        self.clock = clock
    }

    /// The user's record as last stored, nil when there is none (expiry is the reader's rule).
    public func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? {
        state.withLockedValue { $0.records[user] }
    }

    /// Plans `change` with ``WritePlanner`` and stores it with a compare-and-set; a lost race
    /// is retried as the NATS store retries it.
    public func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    {
        var plan = WritePlanner(
            change: change, user: user, ifMatch: ifMatch, nodeID: nodeID, replicaRecord: record(of: user),
            retryDeadline: retryDeadline, maxSessions: maxSessions)
        let stored = try await plan.run(now: clock) { record(of: user) } write: { record, expecting in
            guard let stored = compareAndSet(record, expecting: expecting) else { return nil }
            changes?.publish(stored)
            return stored
        }
        if stored.revision != plan.basis?.revision,
            let entry = AuditEntry(
                change: change, before: plan.basis, after: stored.userPresence, actor: AuditActor.current, nodeID: nodeID,
                at: clock(), keepInvisibleMessages: false)
        {
            state.withLockedValue { $0.audit.append(entry) }
        }
        return stored
    }

    /// The audit trail kept in memory, as the NATS store's stream would serve it.
    /// Entry *i* sits at cursor `i + 1` line 0, as if each were a message of its own.
    public func auditEntries(_ query: AuditQuery) async throws(PresenceError) -> AuditPage {
        let matching = state.withLockedValue { $0.audit }.enumerated().filter { index, entry in
            (query.after.map { $0.precedes(sequence: UInt64(index + 1), line: 0) } ?? true)
                && (query.user.map { $0 == entry.user } ?? true) && (query.since.map { entry.time >= $0 } ?? true)
        }
        let page = matching.prefix(query.limit)
        let more = matching.count > query.limit
        return AuditPage(
            entries: page.map { $0.element.encoded() }, more: more,
            next: more ? page.last.map { AuditCursor(sequence: UInt64($0.offset + 1), line: 0) } : nil)
    }

    /// Drops `user`'s record if it is still at `revision`, as a delete marker in a bucket
    /// would (the marker takes the next revision).
    public func drop(_ user: UserID, revision: UInt64) async throws(PresenceError) -> Bool {
        state.withLockedValue { state in
            guard state.records[user]?.revision == revision else { return false }
            state.records[user] = nil
            state.lastRevision += 1
            state.expirySchedule?.forget(user, revision: state.lastRevision)
            return true
        }
    }

    /// The time of writes and expiry.
    public var now: Timestamp { clock() }

    /// Tells `schedule` of every record held now and of every later write and drop.
    public func feedExpiries(to schedule: ExpirySchedule) {
        state.withLockedValue { state in
            state.expirySchedule = schedule
            for stored in state.records.values { schedule.track(stored) }
        }
    }

    /// Ready unless ``setReadiness(_:)`` said otherwise.
    public func readiness() -> Readiness {
        state.withLockedValue { $0.readiness }
    }

    /// Sets what ``readiness()`` answers (a store that lost its connection, for example).
    public func setReadiness(_ readiness: Readiness) {
        state.withLockedValue { $0.readiness = readiness }
    }

    /// Stores `record` under the next revision if the user's record is still as `expecting`
    /// says: the compare-and-set of a KV bucket.
    /// - Returns: the stored record, nil when another write came first.
    func compareAndSet(_ record: UserPresence, expecting: WritePlanner.Expectation) -> StoredPresence? {
        state.withLockedValue { state in
            let current = state.records[record.userID]?.revision
            switch expecting {
            case .noRecord: guard current == nil else { return nil }
            case .revision(let revision): guard current == revision else { return nil }
            }
            state.lastRevision += 1
            let stored = StoredPresence(record.stored(at: state.lastRevision))
            state.records[record.userID] = stored
            state.expirySchedule?.track(stored)
            return stored
        }
    }

    private func record(of user: UserID) -> UserPresence? {
        state.withLockedValue { $0.records[user] }?.userPresence
    }
}
