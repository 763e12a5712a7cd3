import Testing
@testable import PresenceCore

@Suite("RateLimiter token bucket")
struct RateLimiterTests {
    func drain(_ limiter: RateLimiter, _ key: String, now: Timestamp, max: Int = 10_000) -> Int {
        var allowed = 0
        while allowed < max, limiter.acquire(key, now: now) == .allowed { allowed += 1 }
        return allowed
    }

    @Test func burstThenLimited() {
        let limiter = RateLimiter(ratePerSecond: 10, burst: 20)
        for index in 0..<20 {
            #expect(limiter.acquire("alice", now: t0) == .allowed, "request \(index)")
        }
        guard case .limited(let retryAfter) = limiter.acquire("alice", now: t0) else {
            Issue.record("request 21 was not limited")
            return
        }
        #expect(retryAfter >= 1)
        #expect(retryAfter == 1)
    }

    @Test func refillsAtTheRate() {
        // One token per 100 ms: not yet after 99 ms …
        let early = RateLimiter(ratePerSecond: 10, burst: 20)
        #expect(drain(early, "alice", now: t0) == 20)
        #expect(early.acquire("alice", now: at(t0, plusMillis: 99)) != .allowed)
        // … but after 100 ms.
        let limiter = RateLimiter(ratePerSecond: 10, burst: 20)
        #expect(drain(limiter, "alice", now: t0) == 20)
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 100)) == .allowed)
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 100)) != .allowed)
        // Half a second later: five more.
        #expect(drain(limiter, "alice", now: at(t0, plusMillis: 600)) == 5)
    }

    @Test func refillIsCappedAtTheBurst() {
        let limiter = RateLimiter(ratePerSecond: 10, burst: 20)
        #expect(drain(limiter, "alice", now: t0) == 20)
        #expect(drain(limiter, "alice", now: at(t0, plusMillis: 3_600_000)) == 20)
    }

    @Test func retryAfterIsRoundedUpSeconds() {
        let limiter = RateLimiter(ratePerSecond: 0.25, burst: 1)
        #expect(limiter.acquire("alice", now: t0) == .allowed)
        #expect(limiter.acquire("alice", now: t0) == .limited(retryAfterSeconds: 4))
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 1_000)) == .limited(retryAfterSeconds: 3))
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 3_500)) == .limited(retryAfterSeconds: 1))
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 4_000)) == .allowed)
    }

    @Test func limitedRequestsDoNotConsumeTokens() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 1)
        #expect(limiter.acquire("alice", now: t0) == .allowed)
        for offset: Int64 in [0, 100, 500, 999] {
            #expect(limiter.acquire("alice", now: at(t0, plusMillis: offset)) != .allowed)
        }
        #expect(limiter.acquire("alice", now: at(t0, plusMillis: 1_000)) == .allowed)
    }

    @Test func keysAreIndependent() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 3)
        #expect(drain(limiter, "alice", now: t0) == 3)
        #expect(limiter.acquire("alice", now: t0) != .allowed)
        #expect(drain(limiter, "bob", now: t0) == 3)
        #expect(limiter.acquire("Alice", now: t0) == .allowed)
    }

    @Test(arguments: [0.0, -1.0])
    func nonPositiveRateDisablesLimiting(rate: Double) {
        let limiter = RateLimiter(ratePerSecond: rate, burst: 1)
        for _ in 0..<1_000 {
            #expect(limiter.acquire("alice", now: t0) == .allowed)
        }
    }

    @Test func burstBelowOneMeansOne() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 0)
        #expect(drain(limiter, "alice", now: t0) == 1)
    }

    @Test func aClockGoingBackwardsAddsNoTokens() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 2)
        #expect(drain(limiter, "alice", now: t0) == 2)
        // The wall clock steps back a minute: no tokens for the negative interval, and refilling
        // continues from the new reading.
        let stepped = at(t0, plusMillis: -60_000)
        #expect(limiter.acquire("alice", now: stepped) != .allowed)
        #expect(limiter.acquire("alice", now: at(stepped, plusMillis: 500)) != .allowed)
        #expect(limiter.acquire("alice", now: at(stepped, plusMillis: 1_000)) == .allowed)
        #expect(limiter.acquire("alice", now: at(stepped, plusMillis: 1_000)) != .allowed)
    }

    @Test func sweepingIdleKeysKeepsDrainedBuckets() {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 2)
        #expect(drain(limiter, "hot", now: t0) == 2)
        // Enough other keys to pass the sweep threshold; each of them keeps a partly used bucket.
        for index in 0..<10_050 {
            _ = limiter.acquire("key\(index)", now: t0)
        }
        #expect(limiter.acquire("hot", now: at(t0, plusMillis: 10)) != .allowed)
        #expect(limiter.acquire("key5", now: at(t0, plusMillis: 10)) == .allowed)
        #expect(limiter.acquire("key5", now: at(t0, plusMillis: 10)) != .allowed)
    }

    @Test func concurrentRequestsNeverExceedTheBurst() async {
        let limiter = RateLimiter(ratePerSecond: 1, burst: 50)
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<500 {
                group.addTask { limiter.acquire("alice", now: t0) == .allowed }
            }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(allowed == 50)
    }
}
