/// One device's presence inside a user's record (SPEC §2, Sessions).
public struct PresenceSession: Sendable, Equatable {
    /// The session's name, unique within the user.
    public var id: SessionID
    /// The status as written (see ``isLive(at:)`` for whether it counts).
    public var status: PresenceStatus
    /// The custom message, possibly empty.
    public var message: String
    /// When the message stops counting; nil when it never does.
    public var messageExpiresAt: Timestamp?
    /// Seconds after ``updatedAt`` at which a non-offline status expires.
    public var ttl: Int
    /// Server time of the session's last write or heartbeat.
    public var updatedAt: Timestamp
    /// The last time the session was seen active.
    public var lastSeen: Timestamp
    /// The node that accepted the session's last write.
    public var nodeID: String
    /// An optional device label (at most 32 characters).
    public var device: String
    /// In memory only, never stored: a moment this node assumes the session was alive
    /// although it heard no heartbeat then (it started listening to the heartbeat plane at
    /// that moment, SPEC §3a). Expiry counts from the later of this and ``updatedAt``; what
    /// reads show (`updated_at`, `last_seen`) does not move.
    public var assumedAliveAt: Timestamp?

    /// Creates a session.
    public init(
        id: SessionID, status: PresenceStatus, message: String, messageExpiresAt: Timestamp? = nil, ttl: Int,
        updatedAt: Timestamp, lastSeen: Timestamp, nodeID: String, device: String = ""
    ) {
        self.id = id
        self.status = status
        self.message = message
        self.messageExpiresAt = messageExpiresAt
        self.ttl = ttl
        self.updatedAt = updatedAt
        self.lastSeen = lastSeen
        self.nodeID = nodeID
        self.device = device
    }

    /// When a non-offline status stops counting (``ExpiryRule``): `ttl` after the later of
    /// ``updatedAt`` and ``assumedAliveAt``.
    public var expiresAt: Timestamp {
        let alive = assumedAliveAt.map { max($0, updatedAt) } ?? updatedAt
        return ExpiryRule.expiresAt(updatedAt: alive, ttl: ttl)
    }

    /// Whether the session counts at `now`: its status is not `offline` and it has not expired.
    public func isLive(at now: Timestamp) -> Bool {
        status != .offline && !ExpiryRule.isExpired(status: status, expiresAt: expiresAt, at: now)
    }

    /// The message as it reads at `now`: `""` once ``messageExpiresAt`` has come.
    public func message(at now: Timestamp) -> String {
        ExpiryRule.messageHasExpired(messageExpiresAt, at: now) ? "" : message
    }

    /// The session as it reads at `now`: expired reads `offline`, an expired message `""`.
    public func effective(at now: Timestamp) -> PresenceSession {
        var copy = self
        copy.settle(lapsedAt(now))
        return copy
    }

    /// What has run out by `now` by itself (``ExpiryRule``): the status (the session reads
    /// `offline`), the message (it reads `""`), both or neither.
    struct Lapse: OptionSet {
        let rawValue: UInt8
        /// A status other than `offline` expired.
        static let status = Lapse(rawValue: 1)
        /// The message's `message_expires_at` has come.
        static let message = Lapse(rawValue: 2)
    }

    /// What has run out by `now`; see ``Lapse``.
    func lapsedAt(_ now: Timestamp) -> Lapse {
        var lapse: Lapse = []
        if status != .offline && !isLive(at: now) { lapse.insert(.status) }
        if ExpiryRule.messageHasExpired(messageExpiresAt, at: now) { lapse.insert(.message) }
        return lapse
    }

    /// Makes the session read as `lapse` says: an expired status `offline` with an empty
    /// message, an expired message `""` without its expiry. What every read shows
    /// (``effective(at:)``) and what the sweeper persists (``PresenceChange/expire``).
    mutating func settle(_ lapse: Lapse) {
        if lapse.contains(.status) {
            status = .offline
            message = ""
        }
        if lapse.contains(.message) {
            message = ""
            messageExpiresAt = nil
        }
    }

    /// The first moment after `now` at which the session reads differently by itself (its
    /// expiry, or its message's), nil when none is ahead.
    public func nextChange(after now: Timestamp) -> Timestamp? {
        guard isLive(at: now) else { return nil }
        var next = ExpiryRule.firstExpiredMoment(of: expiresAt)
        if let messageExpiresAt, !message.isEmpty, !ExpiryRule.hasArrived(messageExpiresAt, at: now), messageExpiresAt < next {
            next = messageExpiresAt
        }
        return next
    }
}
