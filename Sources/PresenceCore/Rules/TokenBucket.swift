/// One token bucket, with time passed in: it starts with `burst` tokens and regains
/// `ratePerSecond` tokens a second, up to `burst`. ``RateLimiter`` keeps one per subject; a
/// connected socket keeps its own for its commands.
public struct TokenBucket: Sendable {
    /// The decision for one request.
    public enum Decision: Sendable, Equatable {
        /// Go ahead.
        case allowed
        /// Refused; a token will be available in this many seconds (rounded up, at least 1).
        case limited(retryAfterSeconds: Int)
    }

    private(set) var tokens: Double
    private(set) var updatedMillis: Int64

    /// A full bucket at `now`.
    public init(burst: Int, now: Timestamp) {
        tokens = Double(max(burst, 1))
        updatedMillis = now.millisecondsSinceEpoch
    }

    /// Takes one token at `now`. A rate of 0 or less allows everything.
    public mutating func take(ratePerSecond: Double, burst: Int, now: Timestamp) -> Decision {
        guard ratePerSecond > 0 else { return .allowed }
        refill(ratePerSecond: ratePerSecond, burst: burst, nowMillis: now.millisecondsSinceEpoch)
        guard tokens >= 1 else {
            let wait = (1 - tokens) / ratePerSecond
            return .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
        tokens -= 1
        return .allowed
    }

    /// Whether the bucket would be full at `nowMillis` (so it can be forgotten).
    func isFull(ratePerSecond: Double, burst: Int, nowMillis: Int64) -> Bool {
        let elapsed = Double(max(0, nowMillis - updatedMillis)) / 1000
        return tokens + elapsed * ratePerSecond >= Double(max(burst, 1))
    }

    private mutating func refill(ratePerSecond: Double, burst: Int, nowMillis: Int64) {
        let elapsed = Double(max(0, nowMillis - updatedMillis)) / 1000
        tokens = min(Double(max(burst, 1)), tokens + elapsed * ratePerSecond)
        updatedMillis = nowMillis
    }
}
