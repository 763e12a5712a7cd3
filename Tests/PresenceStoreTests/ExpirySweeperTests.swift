import Logging
import NIOConcurrencyHelpers
import PresenceCore
import Testing

@testable import PresenceStore

/// The sweeper's rules over the memory repository (the same compare-and-set rules as the
/// bucket): what a pass persists, drops, leaves to a write that came first, and retries.
@Suite(.timeLimit(.minutes(1)))
struct ExpirySweeperTests {
    /// The repository's clock, moved by hand.
    final class Clock: Sendable {
        private let millis = NIOLockedValueBox<Int64>(1_800_000_000_000)
        var now: Timestamp { Timestamp(millisecondsSinceEpoch: millis.withLockedValue { $0 }) }
        func advance(seconds: Int64) { millis.withLockedValue { $0 += seconds * 1000 } }
    }

    /// A repository whose writes fail while ``failing`` is set (the store unreachable).
    final class Flaky: ExpiringPresenceRepository {
        let base: MemoryPresenceRepository
        let failing = NIOLockedValueBox(false)
        init(_ base: MemoryPresenceRepository) { self.base = base }

        func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? { try await base.presence(of: user) }
        func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
            -> StoredPresence
        {
            if failing.withLockedValue({ $0 }) { throw PresenceError(.unavailable, "down") }
            return try await base.apply(change, to: user, ifMatch: ifMatch)
        }
        func drop(_ user: UserID, revision: UInt64) async throws(PresenceError) -> Bool {
            if failing.withLockedValue({ $0 }) { throw PresenceError(.unavailable, "down") }
            return try await base.drop(user, revision: revision)
        }
        func readiness() -> Readiness { base.readiness() }
        var now: Timestamp { base.now }
        func feedExpiries(to schedule: ExpirySchedule) { base.feedExpiries(to: schedule) }
    }

    let clock = Clock()
    let logger = Logger(label: "sweeper-test")

    func repository() -> MemoryPresenceRepository {
        MemoryPresenceRepository(nodeID: "center", maxSessions: 16) { [clock] in clock.now }
    }

    func set(_ repository: some PresenceRepository, _ user: String, _ status: PresenceStatus, ttl: Int) async throws {
        let update = PresenceChange.SessionUpdate(status: status, message: "m", ttl: ttl)
        _ = try await repository.apply(.set(.defaultSession, update), to: try UserID(validating: user), ifMatch: nil)
    }

    func status(_ repository: MemoryPresenceRepository, _ user: String) async throws -> PresenceStatus? {
        try await repository.presence(of: try UserID(validating: user))?.status
    }

    @Test func aPassPersistsOfflineForExpiredSessionsOnlyAndAWriteSinceWins() async throws {
        let store = repository()
        try await set(store, "ann", .online, ttl: 10)
        let sweeper = ExpirySweeper(store: store, interval: .seconds(60), batchSize: 100, retentionSeconds: nil, logger: logger)
        try await set(store, "bob", .busy, ttl: 10)  // written after the sweeper started: fed too
        clock.advance(seconds: 5)
        #expect(await sweeper.sweep() == (0, 0))
        clock.advance(seconds: 6)
        try await set(store, "bob", .online, ttl: 10)  // bob is back before the pass
        let pass = await sweeper.sweep()
        #expect(pass.written == 1)
        #expect(try await status(store, "ann") == .offline)
        #expect(try await status(store, "bob") == .online)
        #expect(sweeper.statistics.transitions == 1)
        #expect(await sweeper.sweep() == (0, 0), "each expiry is persisted once")
        clock.advance(seconds: 11)
        #expect(await sweeper.sweep().written == 1, "bob's own expiry, once it comes")
        #expect(try await status(store, "bob") == .offline)
    }

    @Test func aDueRecordTheStoreChangedMeanwhileIsAConflictNotAWrite() async throws {
        let store = repository()
        let sweeper = ExpirySweeper(store: store, interval: .seconds(60), batchSize: 100, retentionSeconds: nil, logger: logger)
        try await set(store, "cat", .online, ttl: 10)
        clock.advance(seconds: 11)
        let due = sweeper.schedule.due(now: clock.now, limit: 10)
        #expect(due.map(\.user.rawValue) == ["cat"])
        try await set(store, "cat", .away, ttl: 10)
        sweeper.schedule.retry(due[0], at: clock.now)
        // The retried entry now names the newer revision, which has not expired: nothing is due.
        #expect(await sweeper.sweep().written == 0)
        #expect(try await status(store, "cat") == .away)
    }

    @Test func aRecordUntouchedForTheRetentionPeriodIsDropped() async throws {
        let store = repository()
        let sweeper = ExpirySweeper(store: store, interval: .seconds(60), batchSize: 100, retentionSeconds: 100, logger: logger)
        try await set(store, "old", .offline, ttl: 10)
        try await set(store, "kept", .offline, ttl: 10)
        clock.advance(seconds: 60)
        try await set(store, "kept", .offline, ttl: 10)
        clock.advance(seconds: 40)
        #expect(await sweeper.sweep().written == 1)
        #expect(try await status(store, "old") == nil)
        #expect(try await status(store, "kept") == .offline)
        #expect(sweeper.statistics.dropped == 1)
        clock.advance(seconds: 60)
        #expect(await sweeper.sweep().written == 1)
        #expect(try await status(store, "kept") == nil)
    }

    @Test func aFailedWriteIsRetriedOnALaterPass() async throws {
        let base = repository()
        let store = Flaky(base)
        let sweeper = ExpirySweeper(store: store, interval: .seconds(60), batchSize: 100, retentionSeconds: nil, logger: logger)
        try await set(store, "dan", .online, ttl: 10)
        clock.advance(seconds: 11)
        store.failing.withLockedValue { $0 = true }
        #expect(await sweeper.sweep() == (1, 0))
        #expect(sweeper.statistics.failures == 1)
        store.failing.withLockedValue { $0 = false }
        #expect(await sweeper.sweep() == (1, 1), "the failed one is due again")
        #expect(try await status(base, "dan") == .offline)
    }

    @Test func aPassTakesAtMostABatch() async throws {
        let store = repository()
        let sweeper = ExpirySweeper(store: store, interval: .seconds(60), batchSize: 4, retentionSeconds: nil, logger: logger)
        for index in 0..<10 { try await set(store, "u\(index)", .online, ttl: 10) }
        clock.advance(seconds: 11)
        #expect(await sweeper.sweep() == (4, 4))
        #expect(await sweeper.sweep() == (4, 4))
        #expect(await sweeper.sweep() == (2, 2))
    }

    @Test func theServiceSweepsWhenTheSoonestExpiryFallsDueWhileTheStoreIsReady() async throws {
        let store = repository()
        let sweeper = ExpirySweeper(store: store, interval: .milliseconds(50), batchSize: 100, retentionSeconds: nil, logger: logger)
        try await set(store, "eve", .online, ttl: 10)
        store.setReadiness(.notReady("down"))
        let running = Task { try await sweeper.run() }
        defer { running.cancel() }
        clock.advance(seconds: 11)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await status(store, "eve") == .online, "no pass while the store is not ready")
        store.setReadiness(.ready)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await status(store, "eve") != .offline, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await status(store, "eve") == .offline)
    }
}
