/// One user's combined presence as the API returns it (SPEC §2), and the single-record form
/// records had before sessions (v0.1), which ``UserPresence`` still reads and writes for a
/// user whose only session is `default`.
public struct PresenceRecord: Sendable, Equatable {
    /// Whose presence this is.
    public var userID: UserID
    /// The status as written (a read reports the combined view: ``UserPresence/publicView(at:)``).
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
