/// How to connect to a NATS server.
public struct NATSConnectionOptions: Sendable {
    /// Server URLs, e.g. `nats://127.0.0.1:4222`.
    public var urls: [String]
    /// Client name shown by the server.
    public var name: String
    /// Connect timeout.
    public var connectTimeout: Duration = .seconds(2)
    /// Wait between reconnect attempts.
    public var reconnectWait: Duration = .milliseconds(250)
    /// Keep trying the first connect instead of failing at once.
    public var retryOnFailedConnect = false
    /// Optional user, password or token.
    public var user: String?
    public var password: String?
    public var token: String?
    /// The prefix of this connection's inboxes (replies, watcher deliveries) instead of
    /// `_INBOX`: a leaf's center lets replies through to it on its own prefix only.
    public var inboxPrefix: String?

    /// Options for `urls` with a client `name`.
    public init(urls: [String], name: String) {
        self.urls = urls
        self.name = name
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
