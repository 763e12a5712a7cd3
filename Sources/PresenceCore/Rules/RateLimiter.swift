import NIOConcurrencyHelpers

/// A token-bucket rate limiter keyed by subject (the JWT `sub`), with time passed in.
///
/// Each key starts with `burst` tokens and regains `ratePerSecond` tokens a second, up to
/// `burst`. Buckets that are full again are dropped, so memory stays bounded by the keys
/// active within the last `burst / rate` seconds.
public final class RateLimiter: Sendable {
    /// The decision for one request.
    public typealias Decision = TokenBucket.Decision

    private let ratePerSecond: Double
    private let burst: Int
    private let buckets = NIOLockedValueBox([String: TokenBucket]())
    private let sweepThreshold = 10_000

    /// Creates a limiter. A rate of 0 or less disables limiting.
    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(burst, 1)
    }

    /// Takes one token for `key` at `now`.
    public func acquire(_ key: String, now: Timestamp) -> Decision {
        guard ratePerSecond > 0 else { return .allowed }
        return buckets.withLockedValue { buckets in
            if buckets.count > sweepThreshold { sweep(&buckets, nowMillis: now.millisecondsSinceEpoch) }
            var bucket = buckets[key] ?? TokenBucket(burst: burst, now: now)
            let decision = bucket.take(ratePerSecond: ratePerSecond, burst: burst, now: now)
            buckets[key] = bucket
            return decision
        }
    }

    private func sweep(_ buckets: inout [String: TokenBucket], nowMillis: Int64) {
        buckets = buckets.filter { _, bucket in
            !bucket.isFull(ratePerSecond: ratePerSecond, burst: burst, nowMillis: nowMillis)
        }
    }
}
