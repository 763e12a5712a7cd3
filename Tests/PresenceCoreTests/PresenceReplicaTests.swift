import Testing
@testable import PresenceCore

@Suite("PresenceReplica")
struct PresenceReplicaTests {
    func stored(_ user: String, revision: UInt64, message: String = "hello", status: PresenceStatus = .online) -> StoredPresence {
        StoredPresence(record(user, status: status, message: message, revision: revision))
    }

    func found(_ lookup: PresenceReplica.Lookup) -> PresenceRecord? {
        if case .found(let stored) = lookup { return stored.record }
        return nil
    }

    @Test func newerRevisionsReplaceOlderAndEqualAreIgnored() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        #expect(replica.apply(stored("alice", revision: 5, message: "five")))
        #expect(found(replica.lookup(uid("alice"), now: t0))?.message == "five")

        #expect(!replica.apply(stored("alice", revision: 4, message: "four")))
        #expect(found(replica.lookup(uid("alice"), now: t0))?.message == "five")

        #expect(!replica.apply(stored("alice", revision: 5, message: "five again")))
        #expect(found(replica.lookup(uid("alice"), now: t0))?.message == "five")

        #expect(replica.apply(stored("alice", revision: 6, message: "six")))
        let current = found(replica.lookup(uid("alice"), now: t0))
        #expect(current?.message == "six")
        #expect(current?.revision == 6)
        #expect(replica.statistics.entries == 1)
    }

    @Test func lookupReturnsTheStoredBody() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let entry = stored("alice", revision: 1)
        replica.apply(entry)
        #expect(replica.lookup(uid("alice"), now: t0) == .found(entry))
    }

    @Test func missesAreUnknownUntilTheInitialSyncCompletes() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(stored("alice", revision: 1))
        #expect(!replica.isInitialSyncComplete)
        #expect(replica.lookup(uid("bob"), now: t0) == .unknown)

        replica.finishResync(upTo: 0)
        #expect(replica.isInitialSyncComplete)
        #expect(replica.lookup(uid("bob"), now: t0) == .absent)
        #expect(found(replica.lookup(uid("alice"), now: t0)) != nil)

        replica.beginResync()
        #expect(replica.lookup(uid("bob"), now: t0) == .unknown)
    }

    @Test func aResyncDropsRecordsTheBucketNoLongerHoldsAndKeepsNewerOnes() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        for (index, name) in ["alice", "bob", "carol", "dave"].enumerated() {
            replica.apply(stored(name, revision: UInt64(index + 1)))
        }
        replica.finishResync(upTo: 0)
        replica.beginResync()
        // The bucket (last revision 6 when the watcher started) still has alice (same
        // revision, so only checked) and carol (rewritten at 5); bob and dave are gone.
        #expect(replica.heldRevision(of: uid("alice")) == 1)
        replica.apply(stored("carol", revision: 5))
        // A write acknowledged after the watcher started: not in its initial values, kept.
        replica.apply(stored("erin", revision: 7))
        let dropped = replica.finishResync(upTo: 6)
        #expect(Set(dropped) == [uid("bob"), uid("dave")])
        #expect(replica.lookup(uid("bob"), now: t0) == .absent)
        #expect(replica.lookup(uid("dave"), now: t0) == .absent)
        #expect(found(replica.lookup(uid("carol"), now: t0))?.revision == 5)
        #expect(found(replica.lookup(uid("erin"), now: t0))?.revision == 7)
        #expect(replica.statistics.entries == 3)
    }

    @Test func aRecordHeldAtAHigherRevisionThanTheCutOffSurvivesAResyncItWasNotPartOf() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(stored("alice", revision: 9))
        replica.beginResync()
        #expect(replica.finishResync(upTo: 8).isEmpty)
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 9)
    }

    @Test func aRecordFromBeforeAResetIsNotApplied() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let generation = replica.generation
        replica.reset()
        #expect(!replica.apply(stored("alice", revision: 9), ifGeneration: generation))
        #expect(replica.heldRevision(of: uid("alice")) == nil)
        #expect(replica.apply(stored("alice", revision: 2), ifGeneration: replica.generation))
    }

    @Test func resetForgetsEveryRecordAndRevision() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let schedule = ExpirySchedule(retentionSeconds: 60)
        replica.feedExpiries(to: schedule)
        replica.apply(stored("alice", revision: 40))
        replica.finishResync(upTo: 0)
        #expect(replica.highestRevision == 40)
        replica.reset()
        #expect(replica.highestRevision == 0)
        #expect(replica.lookup(uid("alice"), now: t0) == .unknown, "nothing is known until the bucket is loaded again")
        #expect(replica.statistics.entries == 0)
        #expect(schedule.nextDue == nil, "nor is anything scheduled")
        // A lower revision from the new bucket is accepted: the old one means nothing now.
        replica.beginResync()
        #expect(replica.apply(stored("alice", revision: 2)))
        replica.finishResync(upTo: 2)
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 2)
    }

    @Test func hitAndMissCounters() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        #expect(replica.statistics == CacheStatistics())
        #expect(replica.statistics.hitRatio == 0)
        replica.apply(stored("alice", revision: 1))
        _ = replica.lookup(uid("alice"), now: t0)
        _ = replica.lookup(uid("alice"), now: t0)
        _ = replica.lookup(uid("alice"), now: t0)
        _ = replica.lookup(uid("bob"), now: t0)
        let stats = replica.statistics
        #expect(stats.hits == 3)
        #expect(stats.misses == 1)
        #expect(stats.hitRatio == 0.75)
        #expect(stats.entries == 1)
        #expect(stats.evictions == 0)
    }

    @Test func costTracksEntries() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let small = stored("alice", revision: 1, message: "")
        replica.apply(small)
        #expect(replica.statistics.costBytes == small.cost)
        let large = stored("alice", revision: 2, message: String(repeating: "x", count: 200))
        replica.apply(large)
        #expect(replica.statistics.costBytes == large.cost)
        let other = stored("bob", revision: 3)
        replica.apply(other)
        #expect(replica.statistics.costBytes == large.cost + other.cost)
        #expect(replica.statistics.entries == 2)
        replica.remove(uid("alice"), revision: 9)
        #expect(replica.statistics.costBytes == other.cost)
        replica.remove(uid("bob"), revision: 9)
        #expect(replica.statistics.costBytes == 0)
        #expect(replica.statistics.entries == 0)
    }

    @Test func evictionKeepsCostUnderTheBoundAndMakesMissesUnknown() {
        let maxCost = 2_000
        let replica = PresenceReplica(maxCost: maxCost, negativeTTLSeconds: 5)
        let count = 60
        for index in 0..<count {
            replica.apply(stored("user\(index)", revision: UInt64(index + 1)))
            #expect(replica.statistics.costBytes <= maxCost)
        }
        replica.finishResync(upTo: 0)
        let stats = replica.statistics
        #expect(stats.evictions > 0)
        #expect(stats.costBytes <= maxCost)
        #expect(stats.costBytes > 0)
        #expect(stats.entries < count)
        #expect(stats.entries + stats.evictions == count)
        let held = (0..<count).compactMap { index -> StoredPresence? in
            guard case .found(let stored) = replica.lookup(uid("user\(index)"), now: t0) else { return nil }
            return stored
        }
        #expect(held.count == stats.entries)
        #expect(held.reduce(0) { $0 + $1.cost } == stats.costBytes)
        #expect(replica.lookup(uid("nobody"), now: t0) == .unknown, "a miss is not definitive any more")
        #expect(replica.isInitialSyncComplete)

        // The record applied last is never the victim of its own insertion.
        #expect(found(replica.lookup(uid("user\(count - 1)"), now: t0))?.revision == UInt64(count))

        var unknown = 0
        for index in 0..<count {
            switch replica.lookup(uid("user\(index)"), now: t0) {
            case .found(let entry): #expect(entry.record.userID == uid("user\(index)"))
            case .unknown: unknown += 1
            case .absent: Issue.record("an evicted user read as absent")
            }
        }
        #expect(unknown == stats.evictions)
        // A user that never had a record cannot be told apart from an evicted one either.
        #expect(replica.lookup(uid("never-seen"), now: t0) == .unknown)
    }

    @Test func rememberedAbsenceLastsTheNegativeTTL() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let bob = uid("bob")
        #expect(replica.lookup(bob, now: t0) == .unknown)
        replica.rememberAbsent(bob, now: t0)
        #expect(replica.lookup(bob, now: t0) == .absent)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 4_999)) == .absent)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 5_000)) == .unknown)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 1_000)) == .unknown, "an expired absence is forgotten")
        #expect(replica.lookup(uid("carol"), now: t0) == .unknown, "absence is per user")
    }

    @Test func rememberedAbsenceAfterEviction() {
        let replica = PresenceReplica(maxCost: 2_000, negativeTTLSeconds: 5)
        for index in 0..<40 { replica.apply(stored("user\(index)", revision: UInt64(index + 1))) }
        replica.finishResync(upTo: 0)
        let bob = uid("bob")
        #expect(replica.lookup(bob, now: t0) == .unknown)
        replica.rememberAbsent(bob, now: t0)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 4_999)) == .absent)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 5_000)) == .unknown)
    }

    @Test func applyClearsARememberedAbsence() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 60)
        let bob = uid("bob")
        replica.rememberAbsent(bob, now: t0)
        #expect(replica.lookup(bob, now: t0) == .absent)
        replica.apply(stored("bob", revision: 3))
        #expect(found(replica.lookup(bob, now: t0))?.revision == 3)
        // Once the record is gone again the old absence must not come back.
        replica.remove(bob, revision: 4)
        #expect(replica.lookup(bob, now: at(t0, plusMillis: 1_000)) == .unknown)
    }

    @Test func rememberAbsentIgnoresHeldUsers() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 60)
        replica.apply(stored("alice", revision: 1))
        replica.rememberAbsent(uid("alice"), now: t0)
        #expect(found(replica.lookup(uid("alice"), now: t0)) != nil)
        replica.remove(uid("alice"), revision: 2)
        #expect(replica.lookup(uid("alice"), now: t0) == .unknown)
    }

    @Test func removeNeedsANewerRevision() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(stored("alice", revision: 10))
        replica.finishResync(upTo: 0)
        replica.remove(uid("alice"), revision: 9)
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 10)
        replica.remove(uid("alice"), revision: 10)
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 10)
        replica.remove(uid("alice"), revision: 11)
        #expect(replica.lookup(uid("alice"), now: t0) == .absent)
        #expect(replica.statistics.entries == 0)
        // Removing a user that is not held is harmless.
        replica.remove(uid("nobody"), revision: 100)
        #expect(replica.statistics.entries == 0)
        // A later write brings the user back.
        #expect(replica.apply(stored("alice", revision: 12)))
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 12)
    }

    @Test func removeKeepsTheOtherEntriesReachable() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        for index in 0..<20 { replica.apply(stored("user\(index)", revision: UInt64(index + 1))) }
        for index in stride(from: 0, to: 20, by: 3) { replica.remove(uid("user\(index)"), revision: 1_000) }
        replica.finishResync(upTo: 0)
        for index in 0..<20 {
            let lookup = replica.lookup(uid("user\(index)"), now: t0)
            if index % 3 == 0 {
                #expect(lookup == .absent)
            } else {
                #expect(found(lookup)?.revision == UInt64(index + 1))
            }
        }
        #expect(replica.statistics.entries == 13)
    }

    @Test func manyRemovalsKeepEveryOtherEntryReachable() {
        // Removal moves the last slot into the gap: every survivor must still be found as itself.
        let replica = PresenceReplica(maxCost: 1 << 24, negativeTTLSeconds: 5)
        for index in 0..<500 { replica.apply(stored("u\(index)", revision: UInt64(index + 1), message: "m\(index)")) }
        replica.finishResync(upTo: 0)
        var removed = Set<Int>()
        var generator = SystemRandomNumberGenerator()
        while removed.count < 250 {
            let index = Int.random(in: 0..<500, using: &generator)
            replica.remove(uid("u\(index)"), revision: 10_000)
            removed.insert(index)
        }
        for index in 0..<500 {
            let lookup = replica.lookup(uid("u\(index)"), now: t0)
            if removed.contains(index) {
                #expect(lookup == .absent)
            } else {
                #expect(found(lookup)?.message == "m\(index)")
            }
        }
        #expect(replica.statistics.entries == 250)
    }

    @Test func holdsComparesTheHeldRevision() {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        #expect(replica.heldRevision(of: uid("hal")) == nil)
        replica.apply(stored("hal", revision: 7))
        #expect(replica.heldRevision(of: uid("hal")) == 7)
    }

    @Test func concurrentAppliesKeepTheNewestRevision() async {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        await withTaskGroup(of: Void.self) { group in
            for revision in (1...200).shuffled() {
                group.addTask {
                    replica.apply(StoredPresence(record("alice", revision: UInt64(revision))))
                    _ = replica.lookup(uid("alice"), now: t0)
                }
            }
        }
        #expect(found(replica.lookup(uid("alice"), now: t0))?.revision == 200)
        #expect(replica.statistics.entries == 1)
        #expect(replica.statistics.hits == 201)
    }
}
