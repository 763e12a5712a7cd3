/// A write a client asks for, as a pure rule over the current record.
public enum PresenceChange: Sendable, Equatable {
    /// `PUT`: set status, message and TTL.
    case set(status: PresenceStatus, message: String, ttl: Int)
    /// `POST …/heartbeat`: refresh `updated_at` and `last_seen` of a live record.
    case heartbeat
    /// `DELETE`: set the user offline, keeping the record and `last_seen`.
    case goOffline
    /// The sweeper: persist the offline state of an expired record, as every read already
    /// reports it (`updated_at` becomes the moment it expired).
    case expire

    /// What applying a change to the current record comes to.
    public enum Outcome: Sendable, Equatable {
        /// Store this record (its revision is still the one it replaces).
        case write(PresenceRecord)
        /// Nothing to store; answer with this record as it reads.
        case unchanged(PresenceRecord)
        /// The change needs an existing record and there is none.
        case notFound

        /// Whether the outcome stores nothing (`unchanged` or `notFound`).
        public var writesNothing: Bool {
            if case .write = self { return false }
            return true
        }
    }

    /// Applies the change to `current` (nil when the user has no record) at `now` on `nodeID`.
    ///
    /// Rules (SPEC §2): a non-offline PUT sets `last_seen` to now; an offline PUT and a DELETE
    /// keep it (a user with no record gets now). A heartbeat on a live record refreshes
    /// `updated_at` and `last_seen`; on a record that reads offline (set so, or expired) it
    /// writes nothing.
    public func apply(to current: PresenceRecord?, user: UserID, now: Timestamp, nodeID: String) -> Outcome {
        switch self {
        case .set(let status, let message, let ttl):
            let lastSeen = status != .offline ? now : (current?.lastSeen ?? now)
            return .write(
                PresenceRecord(
                    userID: user, status: status, message: message, lastSeen: lastSeen, updatedAt: now,
                    nodeID: nodeID, ttl: ttl, revision: current?.revision ?? 0))
        case .heartbeat:
            guard let current else { return .notFound }
            let reads = current.effective(at: now)
            guard reads.status != .offline else { return .unchanged(reads) }
            var next = current
            next.updatedAt = now
            next.lastSeen = now
            next.nodeID = nodeID
            return .write(next)
        case .expire:
            guard let current else { return .notFound }
            guard current.isExpired(at: now) else { return .unchanged(current.effective(at: now)) }
            var next = current.effective(at: now)
            next.updatedAt = ExpiryRule.expiresAt(updatedAt: current.updatedAt, ttl: current.ttl)
            next.nodeID = nodeID
            return .write(next)
        case .goOffline:
            guard let current else { return .notFound }
            var next = current
            next.status = .offline
            next.message = ""
            next.updatedAt = now
            next.nodeID = nodeID
            return .write(next)
        }
    }
}
