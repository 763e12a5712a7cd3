import PresenceHTTP

extension NodeConfiguration {
    /// The limits of the HTTP server's connections: `service.http.header_timeout` and
    /// `service.http.idle_timeout`; the rest are ``HTTPServerSettings``' fixed values.
    public var httpServerSettings: HTTPServerSettings {
        HTTPServerSettings(
            headerTimeout: .milliseconds(Int64(httpHeaderTimeout * 1000)),
            idleTimeout: .milliseconds(Int64(httpIdleTimeout * 1000)))
    }
}
