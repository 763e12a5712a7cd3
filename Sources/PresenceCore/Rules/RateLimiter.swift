import NIOConcurrencyHelpers

/// A token-bucket rate limiter keyed by subject (the JWT `sub`), with time passed in.
///
/// Each key starts with `burst` tokens and regains `ratePerSecond` tokens a second, up to
/// `burst`. Buckets that are full again are dropped, so memory stays bounded by the keys
/// active within the last `burst / rate` seconds.
public final class RateLimiter: Sendable {
    /// The decision for one request.
    public enum Decision: Sendable, Equatable {
        /// Go ahead.
        case allowed
        /// Refused; a token will be available in this many seconds (rounded up, at least 1).
        case limited(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updatedMillis: Int64
    }

    private let ratePerSecond: Double
    private let burst: Double
    private let buckets = NIOLockedValueBox([String: Bucket]())
    private let sweepThreshold = 10_000

    /// Creates a limiter. A rate of 0 or less disables limiting.
    public init(ratePerSecond: Double, burst: Int) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(burst, 1))
    }

    /// Takes one token for `key` at `now`.
    public func acquire(_ key: String, now: Timestamp) -> Decision {
        guard ratePerSecond > 0 else { return .allowed }
        let nowMillis = now.millisecondsSinceEpoch
        return buckets.withLockedValue { buckets in
            if buckets.count > sweepThreshold { sweep(&buckets, nowMillis: nowMillis) }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updatedMillis: nowMillis)
            let elapsed = Double(max(0, nowMillis - bucket.updatedMillis)) / 1000
            bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
            bucket.updatedMillis = nowMillis
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                let wait = (1 - bucket.tokens) / ratePerSecond
                return .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return .allowed
        }
    }

    private func sweep(_ buckets: inout [String: Bucket], nowMillis: Int64) {
        buckets = buckets.filter { _, bucket in
            let elapsed = Double(max(0, nowMillis - bucket.updatedMillis)) / 1000
            return bucket.tokens + elapsed * ratePerSecond < burst
        }
    }
}
