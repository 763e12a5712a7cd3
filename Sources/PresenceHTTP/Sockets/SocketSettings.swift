import PresenceCore

/// How connected sockets behave (SPEC §3b; `service.ws.*`, `presence.reconnect_grace`).
public struct SocketSettings: Sendable {
    /// Seconds between the server's pings (`service.ws.ping_interval`).
    public var pingInterval: Int
    /// Seconds a ping may go unanswered after the interval (`service.ws.pong_timeout`).
    public var pongTimeout: Int
    /// Seconds a new socket has to say hello (`service.ws.auth_timeout`).
    public var authTimeout: Int
    /// Seconds a dropped socket's session waits for a new socket to take it over
    /// (`presence.reconnect_grace`).
    public var reconnectGrace: Int
    /// Sockets this node keeps at most (`service.ws.max_connections`); 0: only the descriptor
    /// budget limits them.
    public var maxConnections: Int
    /// Users one socket may subscribe to (`service.ws.max_subscriptions`).
    public var maxSubscriptions: Int
    /// Bytes the server may have queued for one socket before it is cut off as a slow reader.
    public var maxQueuedBytes: Int

    /// The largest frame (and message) a client may send.
    public static let maxFrameBytes = 4_096

    /// Settings; the defaults are the configuration's.
    public init(
        pingInterval: Int = 20, pongTimeout: Int = 10, authTimeout: Int = 5, reconnectGrace: Int = 5,
        maxConnections: Int = 0, maxSubscriptions: Int = 1_000, maxQueuedBytes: Int = 262_144
    ) {
        self.pingInterval = max(1, pingInterval)
        self.pongTimeout = max(1, pongTimeout)
        self.authTimeout = max(1, authTimeout)
        self.reconnectGrace = max(0, reconnectGrace)
        self.maxConnections = max(0, maxConnections)
        self.maxSubscriptions = max(1, maxSubscriptions)
        self.maxQueuedBytes = max(4_096, maxQueuedBytes)
    }

    /// The `ttl` of a socket's session: three ping intervals (so that one lost heartbeat batch
    /// never shows it offline, SPEC §3a), and at least the silence a live socket is allowed.
    /// It matters only when the node holding the socket dies: otherwise the session ends by
    /// the socket's own rules.
    public var sessionTTL: Int {
        min(PresenceLimits.maxTTL, max(PresenceLimits.minTTL, 3 * pingInterval, pingInterval + pongTimeout))
    }
}
