import PresenceCore

/// A validated `hello`.
struct SocketHello: Equatable {
    /// The bearer token, unless the upgrade request carried it.
    var token: String?
    /// The session the socket is; nil: the server makes one up.
    var session: SessionID?
    /// The session's fields (status `online` when the hello names none).
    var update: PresenceUpdateBody
    /// Whether the hello named a status (a socket taking a live session over keeps the
    /// session's status and message when it does not).
    var namesStatus: Bool

    init(fields: [String: JSONValue], ttl: Int, now: Timestamp) throws(PresenceError) {
        switch fields["token"] {
        case nil, .null?: token = nil
        case .string(let text)?: token = text
        default: throw PresenceError(.unauthorized, "token must be a string")
        }
        switch fields["session"] {
        case nil, .null?: session = nil
        case .string(let text)?: session = try SessionID(validating: text)
        default: throw PresenceError(.invalidSessionID, "session must be a string")
        }
        namesStatus = !(fields["status"] == nil || fields["status"] == .null)
        update = try PresenceUpdateBody(
            fields: fields.filter { $0.key != "ttl" }, defaultTTL: ttl, now: now, defaultStatus: .online)
    }
}
