/// One user's combined presence as the API returns it (SPEC §2), and the single-record form
/// records had before sessions (v0.1), which ``UserPresence`` still reads and writes for a
/// user whose only session is `default`.
public struct PresenceRecord: Sendable, Equatable {
    /// Whose presence this is.
    public var userID: UserID
    /// The status as written (see ``effective(at:)`` for the one reads report).
    public var status: PresenceStatus
    /// The custom message, possibly empty.
    public var message: String
    /// The last time the user was seen active.
    public var lastSeen: Timestamp
    /// Server time of the last write or heartbeat.
    public var updatedAt: Timestamp
    /// The node that accepted the last write.
    public var nodeID: String
    /// Seconds after ``updatedAt`` at which a non-offline status expires.
    public var ttl: Int
    /// The KV revision of the record (0 before it is stored).
    public var revision: UInt64
    /// How many live sessions the user has.
    public var sessions: Int

    /// Creates a record.
    public init(
        userID: UserID, status: PresenceStatus, message: String, lastSeen: Timestamp,
        updatedAt: Timestamp, nodeID: String, ttl: Int, revision: UInt64, sessions: Int? = nil
    ) {
        self.userID = userID
        self.status = status
        self.message = message
        self.lastSeen = lastSeen
        self.updatedAt = updatedAt
        self.nodeID = nodeID
        self.ttl = ttl
        self.revision = revision
        self.sessions = sessions ?? (status == .offline ? 0 : 1)
    }

    /// Whether the record has expired at `now` (``ExpiryRule``).
    public func isExpired(at now: Timestamp) -> Bool {
        ExpiryRule.isExpired(status: status, expiresAt: ExpiryRule.expiresAt(updatedAt: updatedAt, ttl: ttl), at: now)
    }

    /// The record as every read reports it at `now`: an expired record reads as
    /// `offline` with an empty message and `last_seen` unchanged.
    public func effective(at now: Timestamp) -> PresenceRecord {
        guard isExpired(at: now) else { return self }
        var copy = self
        copy.status = .offline
        copy.message = ""
        copy.sessions = 0
        return copy
    }
}

extension PresenceRecord {
    /// Whether `other` has the same fields as this record in a KV value: everything but the
    /// revision and the session count.
    func hasSameFields(as other: PresenceRecord) -> Bool {
        // Strings by their bytes: `==` also equates canonically equivalent ones, which encode differently.
        userID == other.userID && status == other.status && message.utf8.elementsEqual(other.message.utf8)
            && lastSeen == other.lastSeen && updatedAt == other.updatedAt
            && nodeID.utf8.elementsEqual(other.nodeID.utf8) && ttl == other.ttl
    }
}
