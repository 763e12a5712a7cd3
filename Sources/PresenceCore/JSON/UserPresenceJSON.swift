/// The KV value of a ``UserPresence``: the single-record form (``PresenceJSON``) when it says
/// everything (``UserPresence/singleRecord``), else the session form:
///
/// `{"user_id":…,"last_seen":…,"updated_at":…,"node_id":…,"ttl":…,"sessions":[{"session_id":…,
/// "status":…,"message":…,"message_expires_at":…,"ttl":…,"updated_at":…,"last_seen":…,
/// "node_id":…,"device":…}],"hidden":{…the frozen public view…,"revision":…}}`
///
/// A frozen view's `revision` 0 stands for the revision of the entry that carries it (the
/// write that made the user invisible cannot know its own revision).
public enum UserPresenceJSON {
    /// The KV value of `record`.
    public static func encodeValue(_ record: UserPresence) -> [UInt8] {
        if let single = record.singleRecord { return PresenceJSON.encodeValue(single) }
        var object = JSONObjectWriter(reservingCapacity: 256 + record.sessions.count * 256)
        object.add("user_id", record.userID.rawValue)
        object.add("last_seen", record.lastSeen)
        object.add("updated_at", record.updatedAt)
        object.add("node_id", record.nodeID)
        object.add("ttl", record.ttl)
        object.add("sessions", record.sessions.map(sessionObject))
        if let hidden = record.hidden {
            object.add("hidden", PresenceJSON.responseObject(hidden.view))
        }
        return object.finish()
    }

    /// Decodes a KV value stored under `revision`, in either form.
    /// - Returns: nil when the bytes are not a presence record.
    public static func decodeValue(_ bytes: [UInt8], revision: UInt64) -> UserPresence? {
        CanonicalPresenceJSON.decode(bytes, revision: revision, fast: UserPresence.init(single:), strict: decodeValueStrictly)
    }

    /// ``decodeValue(_:revision:)`` by the general reader only (the fast path's reference).
    static func decodeValueStrictly(_ bytes: [UInt8], revision: UInt64) -> UserPresence? {
        guard let fields = JSONValue.object(from: bytes) else { return nil }
        guard case .array(let rawSessions)? = fields["sessions"] else {
            return PresenceJSON.record(from: fields, revision: revision).map(UserPresence.init(single:))
        }
        guard case .string(let rawUser)? = fields["user_id"], let user = try? UserID(validating: rawUser),
            let lastSeen = time(fields["last_seen"]), let updatedAt = time(fields["updated_at"]),
            let ttl = PresenceJSON.seconds(fields["ttl"]), let nodeID = PresenceJSON.optionalString(fields["node_id"])
        else { return nil }
        var sessions: [PresenceSession] = []
        for raw in rawSessions {
            guard case .object(let sessionFields) = raw, let session = session(from: sessionFields) else { return nil }
            sessions.append(session)
        }
        var hidden: UserPresence.HiddenView?
        if case .object(let hiddenFields)? = fields["hidden"] {
            guard case .integer(let frozen)? = hiddenFields["revision"], frozen >= 0,
                var view = PresenceJSON.record(from: hiddenFields, revision: UInt64(frozen))
            else { return nil }
            if view.revision == 0 { view.revision = revision }
            view.sessions = 0
            hidden = UserPresence.HiddenView(view: view)
        }
        return UserPresence(
            userID: user, sessions: sessions, lastSeen: lastSeen, updatedAt: updatedAt, nodeID: nodeID, ttl: ttl,
            hidden: hidden, revision: revision)
    }

    /// `[{…},…]`: each session's fields as stored, and as `?include=sessions` lists them.
    public static func appendSessions(_ sessions: [PresenceSession], to out: inout [UInt8]) {
        JSONObjectWriter.append(sessions.map(sessionObject), to: &out)
    }

    /// One session's fields as stored.
    private static func sessionObject(_ session: PresenceSession) -> JSONObjectWriter {
        var object = JSONObjectWriter(reservingCapacity: 256)
        object.add("session_id", session.id.rawValue)
        object.add("status", session.status.rawValue)
        object.add("message", session.message)
        if let expiresAt = session.messageExpiresAt { object.add("message_expires_at", expiresAt) }
        object.add("ttl", session.ttl)
        object.add("updated_at", session.updatedAt)
        object.add("last_seen", session.lastSeen)
        object.add("node_id", session.nodeID)
        object.add("device", session.device)
        return object
    }

    private static func session(from fields: [String: JSONValue]) -> PresenceSession? {
        guard case .string(let rawID)? = fields["session_id"], let id = try? SessionID(validating: rawID),
            case .string(let rawStatus)? = fields["status"], let status = PresenceStatus(rawValue: rawStatus),
            let ttl = PresenceJSON.seconds(fields["ttl"]), let updatedAt = time(fields["updated_at"]),
            let lastSeen = time(fields["last_seen"]), let message = PresenceJSON.optionalString(fields["message"]),
            let nodeID = PresenceJSON.optionalString(fields["node_id"]), let device = PresenceJSON.optionalString(fields["device"])
        else { return nil }
        var messageExpiresAt: Timestamp?
        switch fields["message_expires_at"] {
        case nil, .null?: break
        case .string(let raw)?:
            guard let time = Timestamp(rfc3339: raw) else { return nil }
            messageExpiresAt = time
        default: return nil
        }
        return PresenceSession(
            id: id, status: status, message: message, messageExpiresAt: messageExpiresAt, ttl: ttl,
            updatedAt: updatedAt, lastSeen: lastSeen, nodeID: nodeID, device: device)
    }

    private static func time(_ value: JSONValue?) -> Timestamp? {
        guard case .string(let raw)? = value else { return nil }
        return Timestamp(rfc3339: raw)
    }
}
