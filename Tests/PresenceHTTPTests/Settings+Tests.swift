import PresenceHTTP

// The HTTP target's tests cannot see the configuration table (PresenceNode), so they state
// the settings they run with here, once: the values the router tests assume.

extension PresenceAPISettings {
    /// The settings the router tests start from: TTL 300 s, public reads, 10 writes/s with a
    /// burst of 20, no read limit.
    static var forTests: PresenceAPISettings {
        PresenceAPISettings(
            defaultTTL: 300, publicReads: true, writesPerSecond: 10, writeBurst: 20, readsPerSecond: 0, readBurst: 100)
    }
}

extension HTTPServerSettings {
    /// A 10 s header time-out and a 60 s idle time-out.
    static var forTests: HTTPServerSettings {
        HTTPServerSettings(headerTimeout: .seconds(10), idleTimeout: .seconds(60))
    }
}
