/// A write a client asks for, as a pure rule over the user's current record.
public enum PresenceChange: Sendable, Equatable {
    /// `PUT`: create or update a session's status, message, TTL and device.
    case set(SessionID, SessionUpdate)
    /// `POST …/heartbeat` (and a heartbeat heard from another node): refresh `updated_at` and
    /// `last_seen` of a live session, never to an earlier time than it has. With
    /// `sessionRequired` (the session routes) a missing session is 404; without (the
    /// single-record route) it writes nothing, as a heartbeat on an offline session.
    case heartbeat(SessionID, sessionRequired: Bool)
    /// `DELETE …/sessions/{id}`: end (remove) one session; its `last_seen` still counts.
    case endSession(SessionID)
    /// `DELETE /presence/{user}`: end every session ("sign out everywhere"), keeping the
    /// record and `last_seen`.
    case endAll
    /// The sweeper: persist what every read already reports: expired sessions as `offline`
    /// (their `updated_at` becomes the moment they expired) and expired messages as `""`.
    case expire

    /// What a `PUT` sets on a session.
    public struct SessionUpdate: Sendable, Equatable {
        public var status: PresenceStatus
        public var message: String
        public var ttl: Int
        public var messageExpiresAt: Timestamp?
        /// nil keeps the session's device label.
        public var device: String?

        public init(
            status: PresenceStatus, message: String, ttl: Int, messageExpiresAt: Timestamp? = nil,
            device: String? = nil
        ) {
            self.status = status
            self.message = message
            self.ttl = ttl
            self.messageExpiresAt = messageExpiresAt
            self.device = device
        }
    }

    /// The single-record heartbeat: session `default`.
    public static var heartbeat: PresenceChange { .heartbeat(.defaultSession, sessionRequired: false) }

    /// What applying a change to the current record comes to.
    public enum Outcome: Sendable, Equatable {
        /// Store this record (its revision is still the one it replaces).
        case write(UserPresence)
        /// Nothing to store; answer with this record.
        case unchanged(UserPresence)
        /// The change needs an existing record (or session) and there is none.
        case notFound
    }

    /// Applies the change to `current` (nil when the user has no record) at `now` on `nodeID`.
    ///
    /// Rules (SPEC §2): a non-offline write sets the session's `last_seen` to now; `offline`
    /// keeps it (a new session gets the user's, a new user now). A heartbeat on a live session
    /// refreshes `updated_at` and `last_seen`; on one that reads offline it writes nothing.
    /// A new session past `maxSessions` ends the least recently updated one. Going invisible
    /// freezes the public view (``UserPresence/HiddenView``); becoming visible drops it.
    public func apply(
        to current: UserPresence?, user: UserID, now: Timestamp, nodeID: String, maxSessions: Int
    ) -> Outcome {
        switch self {
        case .set(let id, let update):
            var next =
                current
                ?? UserPresence(
                    userID: user, sessions: [], lastSeen: now, updatedAt: now, nodeID: nodeID, ttl: update.ttl,
                    revision: 0)
            let existing = next.session(id)
            // An invisible session's own activity never becomes public: going offline from
            // invisible keeps the user's public last_seen, not the session's.
            let kept = existing.flatMap { $0.status == .invisible ? nil : $0.lastSeen } ?? next.lastSeen
            let lastSeen = update.status != .offline ? now : kept
            let session = PresenceSession(
                id: id, status: update.status, message: update.message, messageExpiresAt: update.messageExpiresAt,
                ttl: update.ttl, updatedAt: now, lastSeen: lastSeen, nodeID: nodeID,
                device: update.device ?? existing?.device ?? "")
            if let index = next.sessions.firstIndex(where: { $0.id == id }) {
                next.sessions[index] = session
            } else {
                next.sessions.append(session)
                while next.sessions.count > max(1, maxSessions), let oldest = Self.leastRecentlyUpdated(next.sessions, sparing: id) {
                    next.sessions.remove(at: oldest)
                }
            }
            return .write(Self.finish(next, from: current, at: now, nodeID: nodeID))
        case .heartbeat(let id, let sessionRequired):
            guard let current else { return .notFound }
            guard let index = current.sessions.firstIndex(where: { $0.id == id }) else {
                return sessionRequired ? .notFound : .unchanged(current)
            }
            guard current.sessions[index].isLive(at: now) else { return .unchanged(current) }
            // Never backwards: a write or heartbeat already stored or heard a later time.
            guard now > current.sessions[index].updatedAt else { return .unchanged(current) }
            var next = current
            next.sessions[index].updatedAt = now
            next.sessions[index].lastSeen = now
            next.sessions[index].nodeID = nodeID
            return .write(Self.finish(next, from: current, at: now, nodeID: nodeID))
        case .endSession(let id):
            guard let current, let index = current.sessions.firstIndex(where: { $0.id == id }) else { return .notFound }
            var next = current
            next.sessions.remove(at: index)
            next.updatedAt = now
            next.nodeID = nodeID
            return .write(Self.finish(next, from: current, at: now, nodeID: nodeID))
        case .endAll:
            guard let current else { return .notFound }
            var next = current
            next.sessions = []
            next.updatedAt = now
            next.nodeID = nodeID
            return .write(Self.finish(next, from: current, at: now, nodeID: nodeID))
        case .expire:
            guard let current else { return .notFound }
            var next = current
            var changed = false
            for index in next.sessions.indices {
                let session = next.sessions[index]
                let lapse = session.lapsedAt(now)
                guard !lapse.isEmpty else { continue }
                next.sessions[index].settle(lapse)
                if lapse.contains(.status) {
                    // Persisted as it expired: offline since its expiry, with no message to expire.
                    next.sessions[index].messageExpiresAt = nil
                    next.sessions[index].updatedAt = session.expiresAt
                    next.sessions[index].nodeID = nodeID
                }
                changed = true
            }
            guard changed else { return .unchanged(current) }
            return .write(Self.finish(next, from: current, at: now, nodeID: nodeID))
        }
    }

    /// The index of the least recently updated session other than `spared`.
    private static func leastRecentlyUpdated(_ sessions: [PresenceSession], sparing spared: SessionID) -> Int? {
        sessions.indices.filter { sessions[$0].id != spared }
            .max { UserPresence.moreRecentlyUpdated(sessions[$0], sessions[$1]) }
    }

    /// Restores the record-level fields and the frozen public view after the sessions changed.
    ///
    /// Going invisible freezes what the public read just before: an `offline` view as it was
    /// (nothing observable changes), any other view as `offline` from now (as a sign-out
    /// would look). Staying invisible keeps the frozen view; becoming visible drops it.
    private static func finish(_ changed: UserPresence, from current: UserPresence?, at now: Timestamp, nodeID: String)
        -> UserPresence
    {
        var next = changed
        next.normalize()
        guard next.isInvisible(at: now) else {
            next.hidden = nil
            return next
        }
        if let current, current.isInvisible(at: now), current.hidden != nil { return next }
        let before = current?.publicView(at: now) ?? { var fresh = next; fresh.hidden = nil; return fresh.publicView(at: now) }()
        var frozen = before
        if before.status != .offline || !before.message.isEmpty || before.sessions != 0 {
            frozen.status = .offline
            frozen.message = ""
            frozen.sessions = 0
            frozen.updatedAt = now
            frozen.nodeID = nodeID
            frozen.revision = 0
        }
        next.hidden = UserPresence.HiddenView(view: frozen)
        return next
    }
}
