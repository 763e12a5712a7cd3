import PresenceHTTP

extension HTTPServerSettings {
    /// The limits of the HTTP server's connections, from `service.http.header_timeout` and
    /// `service.http.idle_timeout`; the rest are ``HTTPServerSettings``' fixed values.
    public init(_ node: NodeConfiguration) {
        self.init(
            headerTimeout: .milliseconds(Int64(node.httpHeaderTimeout * 1000)),
            idleTimeout: .milliseconds(Int64(node.httpIdleTimeout * 1000)))
    }
}
