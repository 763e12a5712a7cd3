import Testing
@testable import PresenceCore

@Suite("PresenceRecord expiry rule")
struct ExpiryRuleTests {
    @Test("a live record expires strictly after updated_at + ttl", arguments: [PresenceStatus.online, .away, .busy])
    func expiryBoundary(status: PresenceStatus) {
        let live = record(status: status, message: "busy busy", updatedAt: t0, ttl: 10)
        #expect(!live.isExpired(at: t0))
        #expect(!live.isExpired(at: at(t0, plusMillis: 9_999)))
        #expect(!live.isExpired(at: at(t0, plusMillis: 10_000)))
        #expect(live.isExpired(at: at(t0, plusMillis: 10_001)))
        #expect(live.isExpired(at: at(t0, plusMillis: 86_400_000)))
    }

    @Test func ttlIsInSeconds() {
        let live = record(updatedAt: t0, ttl: 300)
        #expect(!live.isExpired(at: at(t0, plusMillis: 300_000)))
        #expect(live.isExpired(at: at(t0, plusMillis: 300_001)))
        let day = record(updatedAt: t0, ttl: 86_400)
        #expect(!day.isExpired(at: at(t0, plusMillis: 86_400_000)))
        #expect(day.isExpired(at: at(t0, plusMillis: 86_400_001)))
    }

    @Test func aRecordWrittenInTheFutureIsNotExpired() {
        // Clock skew between nodes: a reader whose clock is behind must not expire a fresh record.
        let live = record(updatedAt: at(t0, plusMillis: 5_000), ttl: 10)
        #expect(!live.isExpired(at: t0))
    }

    @Test func offlineRecordsNeverExpire() {
        let offline = record(status: .offline, message: "", updatedAt: t0, ttl: 10)
        for offset: Int64 in [0, 10_000, 10_001, 86_400_000, 10 * 365 * 86_400_000] {
            #expect(!offline.isExpired(at: at(t0, plusMillis: offset)))
            #expect(offline.effective(at: at(t0, plusMillis: offset)) == offline)
        }
    }

    @Test func effectiveOfALiveRecordIsTheRecord() {
        let live = record(status: .busy, message: "In a meeting", lastSeen: at(t0, plusMillis: -5), updatedAt: t0, ttl: 10)
        #expect(live.effective(at: t0) == live)
        #expect(live.effective(at: at(t0, plusMillis: 10_000)) == live)
    }

    @Test func effectiveOfAnExpiredRecordReadsOffline() {
        let lastSeen = at(t0, plusMillis: -60_000)
        let live = record(
            "bob", status: .busy, message: "In a meeting", lastSeen: lastSeen, updatedAt: t0, nodeID: "leaf-eu-1", ttl: 10,
            revision: 42)
        let reads = live.effective(at: at(t0, plusMillis: 10_001))
        #expect(reads.status == .offline)
        #expect(reads.message == "")
        #expect(reads.lastSeen == lastSeen)
        #expect(reads.revision == 42)
        #expect(reads.userID == live.userID)
        #expect(reads.updatedAt == live.updatedAt)
        #expect(reads.nodeID == live.nodeID)
        #expect(reads.ttl == live.ttl)
        // Reading offline is stable: the effective record does not expire any further.
        #expect(!reads.isExpired(at: at(t0, plusMillis: 99_999_999)))
    }
}

@Suite("ExpiryRule: the one owner of the boundary")
struct ExpiryRuleOwnerTests {
    @Test func theRecordTheStoredFormAndTheScheduleAgreeAtEveryMillisecondAroundTheBoundary() {
        for status in PresenceStatus.allCases {
            let written = record(status: status, updatedAt: t0, ttl: 10)
            let stored = StoredPresence(written)
            let expiresAt = ExpiryRule.expiresAt(updatedAt: t0, ttl: 10)
            #expect(expiresAt == at(t0, plusMillis: 10_000))
            for offset in Int64(9_998)...10_002 {
                let now = at(t0, plusMillis: offset)
                let rule = ExpiryRule.isExpired(status: status, expiresAt: expiresAt, at: now)
                #expect(rule == (status != .offline && offset > 10_000))
                #expect(written.isExpired(at: now) == rule)
                #expect(stored.isStale(at: now) == rule)
                if status != .offline {
                    #expect(
                        ExpiryRule.isDue(expiresAtMillis: expiresAt.millisecondsSinceEpoch, nowMillis: now.millisecondsSinceEpoch)
                            == rule)
                }
            }
        }
    }
}
