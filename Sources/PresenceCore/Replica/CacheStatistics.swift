/// Counters of the in-memory replica, as `/health/info` and `/metrics` report them.
public struct CacheStatistics: Sendable, Equatable {
    /// Records held.
    public var entries: Int = 0
    /// Approximate bytes held (bounded by `cache.max_cost`).
    public var costBytes: Int = 0
    /// Lookups answered from a held record.
    public var hits: Int = 0
    /// Lookups that found no record in memory.
    public var misses: Int = 0
    /// Records dropped to stay under the cost bound.
    public var evictions: Int = 0
    /// Records held, by stored status (`offline` includes records the sweeper persisted).
    public var byStatus: [PresenceStatus: Int] = [:]

    /// hits / (hits + misses), 0 before any lookup.
    public var hitRatio: Double {
        let total = hits + misses
        return total == 0 ? 0 : Double(hits) / Double(total)
    }

    public init() {}
}
