/// The close codes a presence socket ends with (SPEC §3b), and what each means for the
/// socket's session.
struct SocketClose: Equatable {
    /// What happens to the socket's session when the socket closes.
    enum SessionEnding: Equatable {
        /// It has none, or it lives on (taken over by another socket, ended elsewhere).
        case keep
        /// Ended at once (a durable write).
        case now
        /// Ended after `presence.reconnect_grace`, unless another socket took it over.
        case afterGrace
    }

    /// The WebSocket close code.
    var code: UInt16
    /// A short reason for the close frame (at most 123 bytes).
    var reason: String
    /// What happens to the session.
    var ending: SessionEnding

    /// The client closed with a close frame: its session ends at once.
    static let byClient = SocketClose(code: 1000, reason: "closed", ending: .now)
    /// The node drains (graceful shutdown): session ended first.
    static let goingAway = SocketClose(code: 1001, reason: "the node is shutting down", ending: .now)
    /// A protocol error (bad framing, an unmasked or binary frame).
    static func protocolError(_ reason: String) -> SocketClose { SocketClose(code: 1002, reason: reason, ending: .now) }
    /// A frame or message over 4 KiB.
    static let tooBig = SocketClose(code: 1009, reason: "frames are at most 4096 bytes", ending: .now)
    /// The client does not read what it is sent (its queue passed its bound): like a network
    /// that went away, so the session waits out the grace period.
    static let slowReader = SocketClose(code: 1013, reason: "the client does not read its events", ending: .afterGrace)
    /// The token was bad, expired or missing at hello.
    static func unauthorized(_ reason: String) -> SocketClose { SocketClose(code: 4401, reason: reason, ending: .keep) }
    /// The token expired while the socket was live: reconnect with a new one within the grace period.
    static let tokenExpired = SocketClose(code: 4401, reason: "the token has expired", ending: .afterGrace)
    /// No hello within `service.ws.auth_timeout`.
    static let noHello = SocketClose(code: 4408, reason: "no hello in time", ending: .keep)
    /// No pong within `service.ws.ping_interval` + `service.ws.pong_timeout`.
    static let silent = SocketClose(code: 4408, reason: "no pong in time", ending: .now)
    /// Another socket said hello for the same user and session.
    static let takenOver = SocketClose(code: 4409, reason: "another connection took the session over", ending: .keep)
    /// The session was ended elsewhere (a DELETE, or it expired).
    static let sessionEnded = SocketClose(code: 4410, reason: "the session was ended elsewhere", ending: .keep)
}
