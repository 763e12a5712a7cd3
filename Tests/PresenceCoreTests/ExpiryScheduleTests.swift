import Testing

@testable import PresenceCore

/// The center sweeper's expiry schedule, as a replica feeds it.
struct ExpiryScheduleTests {
    /// A replica feeding a new schedule.
    private func fed(maxCost: Int, retention: Int? = nil) -> (PresenceReplica, ExpirySchedule) {
        let replica = PresenceReplica(maxCost: maxCost, negativeTTLSeconds: 5)
        let schedule = ExpirySchedule(retentionSeconds: retention)
        replica.feedExpiries(to: schedule)
        return (replica, schedule)
    }

    private func record(_ user: String, status: PresenceStatus = .online, at millis: Int64, ttl: Int, revision: UInt64)
        throws -> StoredPresence
    {
        StoredPresence(
            PresenceRecord(
                userID: try UserID(validating: user), status: status, message: "", lastSeen: Timestamp(millisecondsSinceEpoch: millis),
                updatedAt: Timestamp(millisecondsSinceEpoch: millis), nodeID: "n", ttl: ttl, revision: revision))
    }

    @Test func dueRecordsComeOutSoonestFirstAndOnlyOnce() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        replica.apply(try record("late", at: 0, ttl: 30, revision: 1))
        replica.apply(try record("early", at: 0, ttl: 10, revision: 2))
        replica.apply(try record("off", status: .offline, at: 0, ttl: 10, revision: 3))
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 10_000), limit: 10).isEmpty)
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 40_000), limit: 10)
        #expect(due.map(\.user.rawValue) == ["early", "late"])
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 40_000), limit: 10).isEmpty)
    }

    /// A live session that outlasts the retention period is not dropped; its entry waits for
    /// the session's expiry instead of coming due again and again at the retention moment,
    /// where it stood ahead of every other expiry (and made the sweeper spin).
    @Test func aRecordOutlivingItsRetentionDoesNotHoldUpOtherExpiries() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20, retention: 100)
        replica.apply(try record("long", at: 0, ttl: 86_400, revision: 1))
        replica.apply(try record("short", at: 95_000, ttl: 10, revision: 2))
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 110_000), limit: 2)
        #expect(due.map(\.user.rawValue) == ["short"])
        #expect(schedule.nextDue == Timestamp(millisecondsSinceEpoch: 86_400_000 + 1))
    }

    @Test func aRecordIsDueToBeDroppedExactlyWhenItsRetentionHasPassed() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20, retention: 100)
        replica.apply(try record("off", status: .offline, at: 0, ttl: 10, revision: 1))
        replica.apply(try record("live", at: 0, ttl: 10, revision: 2))
        // The live one expires first (a persist, not a drop).
        let expiry = schedule.due(now: Timestamp(millisecondsSinceEpoch: 10_001), limit: 10)
        #expect(expiry.map(\.user.rawValue) == ["live"])
        #expect(expiry.map(\.drop) == [false])
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 99_999), limit: 10).isEmpty)
        let dropped = schedule.due(now: Timestamp(millisecondsSinceEpoch: 100_000), limit: 10)
        #expect(dropped == [ExpirySchedule.DueExpiry(user: uid("off"), revision: 1, drop: true)])
        // A write since moves the moment.
        replica.apply(try record("kept", status: .offline, at: 0, ttl: 10, revision: 3))
        replica.apply(try record("kept", status: .offline, at: 50_000, ttl: 10, revision: 4))
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 149_999), limit: 10).isEmpty)
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 150_000), limit: 10).map(\.revision) == [4])
    }

    @Test func aRecordWithALiveSessionIsNeverDropped() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20, retention: 100)
        replica.apply(try record("long", at: 0, ttl: 600, revision: 1))
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 500_000), limit: 10).isEmpty)
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 600_001), limit: 10).map(\.drop) == [false])
    }

    @Test func aNewerRevisionReplacesTheScheduledOne() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        replica.apply(try record("u", at: 0, ttl: 10, revision: 1))
        replica.apply(try record("u", at: 8_000, ttl: 10, revision: 2))
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 12_000), limit: 10).isEmpty)
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 18_001), limit: 10)
        #expect(due.map(\.revision) == [2])
    }

    @Test func theLimitBoundsAPassAndTheRestWaits() throws {
        let (replica, schedule) = fed(maxCost: 1 << 24)
        for index in 0..<50 { replica.apply(try record("u\(index)", at: 0, ttl: 10, revision: UInt64(index + 1))) }
        let now = Timestamp(millisecondsSinceEpoch: 20_000)
        #expect(schedule.due(now: now, limit: 20).count == 20)
        #expect(schedule.due(now: now, limit: 20).count == 20)
        #expect(schedule.due(now: now, limit: 20).count == 10)
    }

    @Test func heartbeatsKeepOneEntryPerUser() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        for beat in 0..<100 {
            replica.apply(try record("u", at: Int64(beat) * 1_000, ttl: 30, revision: UInt64(beat + 1)))
        }
        #expect(schedule.entryCount == 1)
        // The one entry falls due at the first expiry, finds the record refreshed, moves on...
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 31_000), limit: 10).isEmpty)
        #expect(schedule.entryCount == 1)
        // ...and yields it once it really expired.
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 129_001), limit: 10)
        #expect(due == [ExpirySchedule.DueExpiry(user: try UserID(validating: "u"), revision: 100)])
    }

    @Test func aScheduleStartsWithWhatTheReplicaHoldsAlready() throws {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        for index in 0..<5 { replica.apply(try record("u\(index)", at: 0, ttl: 10, revision: UInt64(index + 1))) }
        let schedule = ExpirySchedule(retentionSeconds: nil)
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 60_000), limit: 100).isEmpty)
        replica.feedExpiries(to: schedule)
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 60_000), limit: 100).count == 5)
    }

    @Test func aDeletedRecordIsForgottenUnlessWrittenSinceAndAResetForgetsAll() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        replica.apply(try record("gone", at: 0, ttl: 10, revision: 1))
        replica.apply(try record("back", at: 0, ttl: 10, revision: 2))
        replica.remove(try UserID(validating: "gone"), revision: 3)
        replica.remove(try UserID(validating: "back"), revision: 2)  // a marker older than the record: kept
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_000), limit: 10)
        #expect(due.map(\.user.rawValue) == ["back"])
        replica.apply(try record("later", at: 0, ttl: 10, revision: 4))
        replica.reset()
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_000), limit: 10).isEmpty)
        #expect(schedule.nextDue == nil)
    }

    @Test func aRecordAResyncDropsIsForgotten() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        replica.apply(try record("stale", at: 0, ttl: 10, revision: 1))
        replica.beginResync()
        #expect(replica.finishResync(upTo: 5).map(\.rawValue) == ["stale"])
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_000), limit: 10).isEmpty)
    }

    @Test func anEvictedRecordIsStillDue() throws {
        let (replica, schedule) = fed(maxCost: 3_000)
        for index in 0..<40 { replica.apply(try record("u\(index)", at: 0, ttl: 10, revision: UInt64(index + 1))) }
        #expect(replica.statistics.evictions > 0)
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_000), limit: 100)
        #expect(due.count == 40)
    }

    /// The schedule does not depend on the replica's memory: an evicted record is dropped
    /// when its retention has passed (the replica's old schedule handed it out as an expiry,
    /// a write that could only conflict, and never dropped it).
    @Test func anEvictedRecordIsDroppedWhenItsRetentionHasPassed() throws {
        let (replica, schedule) = fed(maxCost: 3_000, retention: 100)
        for index in 0..<40 {
            replica.apply(try record("u\(index)", status: .offline, at: 0, ttl: 10, revision: UInt64(index + 1)))
        }
        #expect(replica.statistics.evictions > 0)
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 99_999), limit: 100).isEmpty)
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 100_000), limit: 100)
        #expect(due.count == 40)
        #expect(due.allSatisfy { $0.drop })
    }

    @Test func aFailedWriteIsRetried() throws {
        let (replica, schedule) = fed(maxCost: 1 << 20)
        replica.apply(try record("u", at: 0, ttl: 10, revision: 1))
        let due = schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_000), limit: 10)
        #expect(due.count == 1)
        schedule.retry(due[0], at: Timestamp(millisecondsSinceEpoch: 20_000))
        #expect(schedule.due(now: Timestamp(millisecondsSinceEpoch: 20_001), limit: 10) == due)
    }

    @Test func expireChangePersistsTheOfflineStateAsItReads() throws {
        let user = try UserID(validating: "u")
        let current = try record("u", at: 1_000, ttl: 10, revision: 7).record
        let now = Timestamp(millisecondsSinceEpoch: 20_000)
        guard case .write(let written) = PresenceChange.expire.apply(to: current, user: user, now: now, nodeID: "center")
        else {
            Issue.record("an expired record must be written")
            return
        }
        let next = written.single
        #expect(next.status == .offline)
        #expect(next.message == "")
        #expect(next.lastSeen == current.lastSeen)
        #expect(next.updatedAt == Timestamp(millisecondsSinceEpoch: 11_000))
        #expect(next.revision == 7)
        let live = PresenceChange.expire.apply(to: current, user: user, now: Timestamp(millisecondsSinceEpoch: 5_000), nodeID: "c")
        #expect(live == .unchanged(UserPresence(single: current)))
    }
}
