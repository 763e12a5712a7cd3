/// One user's record as stored under the user's KV key: the user's sessions, and what the
/// combined presence needs when no session says it (SPEC §2, Sessions; DESIGN "Sessions in
/// one record"). One revision orders everything about the user.
///
/// The combined presence is a pure function of this value and the time
/// (``publicView(at:)``, ``ownerView(at:)`` in `UserPresence+Views.swift`).
public struct UserPresence: Sendable, Equatable {
    /// The public view frozen while the user is invisible: public reads, ETags and streams
    /// use it until the user is visible again.
    public struct HiddenView: Sendable, Equatable {
        /// What everyone else reads (`offline`, message `""`, `sessions: 0`).
        public var view: PresenceRecord
    }

    /// Whose record.
    public var userID: UserID
    /// The user's sessions, at most `presence.max_sessions`.
    public var sessions: [PresenceSession]
    /// The latest `last_seen` of every visible session the user ever had (ended ones too),
    /// or the first write's time for a user who was never active.
    public var lastSeen: Timestamp
    /// `updated_at`, `node_id` and `ttl` of the last visible write: of the most recently
    /// updated visible session, or of a later write that ended sessions.
    public var updatedAt: Timestamp
    /// See ``updatedAt``.
    public var nodeID: String
    /// See ``updatedAt``.
    public var ttl: Int
    /// Set while the user is invisible.
    public var hidden: HiddenView?
    /// The KV revision of the record (0 before it is stored).
    public var revision: UInt64

    /// Creates a record.
    public init(
        userID: UserID, sessions: [PresenceSession], lastSeen: Timestamp, updatedAt: Timestamp, nodeID: String,
        ttl: Int, hidden: HiddenView? = nil, revision: UInt64
    ) {
        self.userID = userID
        self.sessions = sessions
        self.lastSeen = lastSeen
        self.updatedAt = updatedAt
        self.nodeID = nodeID
        self.ttl = ttl
        self.hidden = hidden
        self.revision = revision
    }

    /// A record in the single-record form (written before v0.2, or by this version for a
    /// user whose only session is a plain `default`): a user whose only session is `default`.
    public init(single record: PresenceRecord) {
        let session = PresenceSession(
            id: .defaultSession, status: record.status, message: record.message, ttl: record.ttl,
            updatedAt: record.updatedAt, lastSeen: record.lastSeen, nodeID: record.nodeID)
        self.init(
            userID: record.userID, sessions: [session], lastSeen: record.lastSeen, updatedAt: record.updatedAt,
            nodeID: record.nodeID, ttl: record.ttl, revision: record.revision)
    }

    /// The record in the single-record form, when that form says all of it: one session,
    /// `default`, no device, no message expiry, visible, and a message only while not
    /// `offline`. Such records are stored and cached in that form, as small as before sessions.
    public var singleRecord: PresenceRecord? {
        guard sessions.count == 1, hidden == nil else { return nil }
        let session = sessions[0]
        guard session.id == .defaultSession, session.device.isEmpty, session.messageExpiresAt == nil,
            session.status != .invisible, session.status != .offline || session.message.isEmpty,
            lastSeen == session.lastSeen, updatedAt == session.updatedAt, nodeID == session.nodeID, ttl == session.ttl
        else { return nil }
        return PresenceRecord(
            userID: userID, status: session.status, message: session.message, lastSeen: session.lastSeen,
            updatedAt: session.updatedAt, nodeID: session.nodeID, ttl: session.ttl, revision: revision)
    }

    /// The record as stored under `revision`: a view frozen by this very write (revision 0)
    /// gets it too.
    public func stored(at revision: UInt64) -> UserPresence {
        var copy = self
        copy.revision = revision
        if copy.hidden?.view.revision == 0 { copy.hidden?.view.revision = revision }
        return copy
    }

    /// The session named `id`, nil when the user has none.
    public func session(_ id: SessionID) -> PresenceSession? {
        sessions.first { $0.id == id }
    }

    /// Whether some session is invisible and live at `now`.
    public func isInvisible(at now: Timestamp) -> Bool {
        sessions.contains { $0.status == .invisible && $0.isLive(at: now) }
    }

    /// Restores the record-level fields after the sessions changed: ``lastSeen``,
    /// ``updatedAt``, ``nodeID`` and ``ttl`` become those of the combined public presence
    /// (`UserPresence+Views.swift`: the visible sessions' latest `last_seen`, the most
    /// recently updated visible session unless a later write ending sessions set them).
    mutating func normalize() {
        // These fields of the combination do not depend on the time it is read at.
        let view = combined(sessions.filter { $0.status != .invisible }, at: updatedAt)
        lastSeen = view.lastSeen
        updatedAt = view.updatedAt
        nodeID = view.nodeID
        ttl = view.ttl
    }
}
