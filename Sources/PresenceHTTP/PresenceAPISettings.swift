/// The API's behaviour settings, from the node configuration.
public struct PresenceAPISettings: Sendable {
    /// TTL of a PUT without `ttl` (`presence.default_ttl`).
    public var defaultTTL: Int = 300
    /// Whether reads need no token (`auth.public_reads`).
    public var publicReads = true
    /// Per-subject write rate (`rate_limit.writes_per_second`); 0 disables the limit.
    public var writesPerSecond: Double = 10
    /// Per-subject write burst (`rate_limit.write_burst`).
    public var writeBurst: Int = 20
    /// Per-client-address read rate (`rate_limit.reads_per_second`); 0, the default, disables it.
    public var readsPerSecond: Double = 0
    /// Per-client-address read burst (`rate_limit.read_burst`).
    public var readBurst: Int = 100

    /// The defaults (those of SPEC §7 where it names the key).
    public init() {}
}
