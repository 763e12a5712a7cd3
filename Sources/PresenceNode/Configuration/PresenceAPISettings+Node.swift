import PresenceHTTP

extension PresenceAPISettings {
    /// The API's behaviour, from `presence.default_ttl`, `auth.public_reads`, `rate_limit.*`
    /// and `service.http.cors.allowed_origins`.
    init(_ node: NodeConfiguration) {
        self.init(
            defaultTTL: node.defaultTTL, publicReads: node.publicReads, writesPerSecond: node.writesPerSecond,
            writeBurst: node.writeBurst, readsPerSecond: node.readsPerSecond, readBurst: node.readBurst,
            corsAllowedOrigins: node.corsAllowedOrigins)
    }
}
