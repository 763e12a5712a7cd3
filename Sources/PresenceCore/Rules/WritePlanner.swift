/// Decides, step by step, how a write reaches the bucket: a pure state machine over what is
/// known (the request, the record as last read and where it was read from, what the bucket
/// answered), so the compare-and-set loop is tested without any store. The store only
/// executes the steps.
///
/// Rules:
/// - The replica may lag behind writes made on other nodes. An `If-Match` that does not
///   match, and an answer that writes nothing (404, a heartbeat on an offline record), are
///   confirmed with the bucket before they are given.
/// - Every write is a compare-and-set on the revision read (no record: "no value yet").
/// - A write that loses the race: with `If-Match`, 412; without, read again and retry, with
///   a growing random pause once races go on, until `retryDeadline` has passed (then 503: it
///   certainly was not applied).
public struct WritePlanner: Sendable {
    /// What the store does next.
    public enum Step: Sendable, Equatable {
        /// Read the user's record from the bucket (not the replica), then call ``confirmed(_:)``.
        case readFromBucket
        /// Pause this long, then read from the bucket (a race was lost).
        case pauseThenReadFromBucket(Duration)
        /// Store `record` if the bucket still holds `expecting`; then call ``lostRace(after:)``
        /// if it did not.
        case write(UserPresence, expecting: Expectation)
        /// Answer with this record: nothing needs storing.
        case answer(UserPresence)
        /// Answer with this error.
        case fail(PresenceError)
    }

    /// The condition of a compare-and-set write.
    public enum Expectation: Sendable, Equatable {
        /// The user has no record yet.
        case noRecord
        /// The user's record is at this revision.
        case revision(UInt64)
    }

    private let change: PresenceChange
    private let user: UserID
    private let ifMatch: RevisionMatch?
    private let nodeID: String
    private let retryDeadline: Duration
    private let maxSessions: Int
    private var current: UserPresence?
    /// Whether `current` was read from the bucket itself.
    private var isConfirmed = false
    /// Races lost so far.
    private var conflicts = 0

    /// A plan for `change` to `user`, starting from the record the replica holds.
    public init(
        change: PresenceChange, user: UserID, ifMatch: RevisionMatch?, nodeID: String, replicaRecord: UserPresence?,
        retryDeadline: Duration = .seconds(5), maxSessions: Int
    ) {
        self.maxSessions = maxSessions
        self.change = change
        self.user = user
        self.ifMatch = ifMatch
        self.nodeID = nodeID
        self.retryDeadline = retryDeadline
        self.current = replicaRecord
    }

    /// The record the plan last read: after a ``Step/write(_:expecting:)`` was stored, the
    /// record that write replaced (nil: the user had none).
    public var basis: UserPresence? { current }

    /// The next step at `now`.
    public mutating func next(now: Timestamp) -> Step {
        if let ifMatch, !Self.matches(ifMatch, current) {
            guard isConfirmed else { return .readFromBucket }
            return .fail(PresenceError(.preconditionFailed, "the record's revision does not match If-Match"))
        }
        switch change.apply(to: current, user: user, now: now, nodeID: nodeID, maxSessions: maxSessions) {
        case .notFound:
            guard isConfirmed else { return .readFromBucket }
            let what = current == nil ? "no presence record for this user" : "no such session for this user"
            return .fail(PresenceError(.notFound, what))
        case .unchanged(let record):
            guard isConfirmed else { return .readFromBucket }
            return .answer(record)
        case .write(let record):
            return .write(record, expecting: current.map { .revision($0.revision) } ?? .noRecord)
        }
    }

    /// The bucket's answer to ``Step/readFromBucket``: the record, nil when there is none.
    public mutating func confirmed(_ record: UserPresence?) {
        current = record
        isConfirmed = true
    }

    /// The bucket refused a ``Step/write(_:expecting:)``: another writer changed the record.
    /// - Parameter elapsed: time since the write began.
    /// - Returns: ``Step/fail(_:)`` or ``Step/pauseThenReadFromBucket(_:)``.
    public mutating func lostRace(after elapsed: Duration) -> Step {
        conflicts += 1
        if ifMatch != nil {
            return .fail(PresenceError(.preconditionFailed, "the record changed since the revision in If-Match"))
        }
        guard elapsed < retryDeadline else {
            return .fail(PresenceError(.unavailable, "this user's record changed too often to write it; try again", retryAfter: 1))
        }
        guard conflicts > 2 else { return .pauseThenReadFromBucket(.zero) }
        let ceiling = min(1 << min(conflicts, 6), 50)
        return .pauseThenReadFromBucket(.milliseconds(Int.random(in: 1...ceiling)))
    }

    private static func matches(_ match: RevisionMatch, _ current: UserPresence?) -> Bool {
        switch match {
        case .any: return current != nil
        case .revision(let revision): return current?.revision == revision
        case .oneOf(let revisions): return current.map { revisions.contains($0.revision) } ?? false
        case .none: return false
        }
    }
}
