/// The API's behaviour settings, from the node configuration.
public struct PresenceAPISettings: Sendable {
    /// TTL of a PUT without `ttl` (`presence.default_ttl`).
    public var defaultTTL: Int
    /// Whether reads need no token (`auth.public_reads`).
    public var publicReads: Bool
    /// Per-subject write rate (`rate_limit.writes_per_second`); 0 disables the limit.
    public var writesPerSecond: Double
    /// Per-subject write burst (`rate_limit.write_burst`).
    public var writeBurst: Int
    /// Per-client-address read rate (`rate_limit.reads_per_second`); 0 disables it.
    public var readsPerSecond: Double
    /// Per-client-address read burst (`rate_limit.read_burst`).
    public var readBurst: Int
    /// Origins whose browser apps may call the API (`service.http.cors.allowed_origins`):
    /// exact origins, or `*` for any; empty sends no CORS headers.
    public var corsAllowedOrigins: [String]

    /// Settings with the values of these configuration keys (their defaults are the node's).
    public init(
        defaultTTL: Int, publicReads: Bool, writesPerSecond: Double, writeBurst: Int, readsPerSecond: Double,
        readBurst: Int, corsAllowedOrigins: [String] = []
    ) {
        self.corsAllowedOrigins = corsAllowedOrigins
        self.defaultTTL = defaultTTL
        self.publicReads = publicReads
        self.writesPerSecond = writesPerSecond
        self.writeBurst = writeBurst
        self.readsPerSecond = readsPerSecond
        self.readBurst = readBurst
    }
}
