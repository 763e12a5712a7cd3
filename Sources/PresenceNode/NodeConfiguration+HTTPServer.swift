import PresenceHTTP

extension NodeConfiguration {
    /// The limits of the HTTP server's connections: `service.http.header_timeout` and
    /// `service.http.idle_timeout`; the rest are ``HTTPServerSettings``' fixed defaults.
    public var httpServerSettings: HTTPServerSettings {
        var settings = HTTPServerSettings()
        settings.headerTimeout = .milliseconds(Int64(httpHeaderTimeout * 1000))
        settings.idleTimeout = .milliseconds(Int64(httpIdleTimeout * 1000))
        return settings
    }
}
