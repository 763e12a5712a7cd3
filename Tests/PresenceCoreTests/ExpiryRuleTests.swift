import Testing
@testable import PresenceCore

@Suite("The expiry rule on a record and how a read reports it")
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
            #expect(offline.publicView(at: at(t0, plusMillis: offset)) == offline)
        }
    }

    @Test func aLiveRecordReadsAsItIs() {
        let live = record(status: .busy, message: "In a meeting", lastSeen: at(t0, plusMillis: -5), updatedAt: t0, ttl: 10)
        #expect(live.publicView(at: t0) == live)
        #expect(live.publicView(at: at(t0, plusMillis: 10_000)) == live)
    }

    @Test func anExpiredRecordReadsOffline() {
        let lastSeen = at(t0, plusMillis: -60_000)
        let live = record(
            "bob", status: .busy, message: "In a meeting", lastSeen: lastSeen, updatedAt: t0, nodeID: "leaf-eu-1", ttl: 10,
            revision: 42)
        let reads = live.publicView(at: at(t0, plusMillis: 10_001))
        #expect(reads.status == .offline)
        #expect(reads.message == "")
        #expect(reads.lastSeen == lastSeen)
        #expect(reads.revision == 42)
        #expect(reads.userID == live.userID)
        #expect(reads.updatedAt == live.updatedAt)
        #expect(reads.nodeID == live.nodeID)
        #expect(reads.ttl == live.ttl)
        // Reading offline is stable: what a read reports does not expire any further.
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
                #expect(UserPresence(single: written).sessions[0].isLive(at: now) == (status != .offline && !rule))
                #expect(stored.isStale(at: now) == rule)
                #expect(stored.hasChangeDue(at: now) == rule, "the sweeper's schedule")
            }
        }
    }

    @Test func aDeadlineHasArrivedFromItsOwnMillisecondOn() {
        let deadline = at(t0, plusMillis: 10_000)
        #expect(!ExpiryRule.hasArrived(deadline, at: at(t0, plusMillis: 9_999)))
        #expect(ExpiryRule.hasArrived(deadline, at: deadline))
        #expect(ExpiryRule.hasArrived(deadline, at: at(t0, plusMillis: 10_001)))
        #expect(!ExpiryRule.messageHasExpired(nil, at: deadline))
        #expect(ExpiryRule.messageHasExpired(deadline, at: deadline))
    }

    @Test func retentionCountsInSecondsFromTheLastWrite() {
        let dropAt = ExpiryRule.retainedUntil(lastWritten: t0, retentionSeconds: 3600)
        #expect(dropAt == at(t0, plusMillis: 3_600_000))
        #expect(!ExpiryRule.hasArrived(dropAt, at: at(t0, plusMillis: 3_599_999)))
        #expect(ExpiryRule.hasArrived(dropAt, at: at(t0, plusMillis: 3_600_000)))
    }

    @Test func whatAReadShowsIsWhatTheSweeperPersists() {
        // A session whose status expires at +10 s and whose message expires at +5 s.
        let session = PresenceSession(
            id: .defaultSession, status: .busy, message: "call", messageExpiresAt: at(t0, plusMillis: 5_000), ttl: 10,
            updatedAt: t0, lastSeen: t0, nodeID: "writer")
        let user = UserPresence(single: record(updatedAt: t0, ttl: 10))
        for offset: Int64 in [0, 4_999, 5_000, 9_999, 10_000, 10_001, 20_000] {
            let now = at(t0, plusMillis: offset)
            var current = user
            current.sessions = [session]
            let reads = session.effective(at: now)
            switch PresenceChange.expire.apply(to: current, user: current.userID, now: now, nodeID: "sweeper", maxSessions: 16) {
            case .write(let persisted):
                let stored = persisted.sessions[0]
                #expect(stored.status == reads.status && stored.message == reads.message, "at +\(offset) ms")
                #expect(stored.effective(at: now) == stored, "what is persisted reads as it is, at +\(offset) ms")
            case .unchanged:
                #expect(reads == session, "nothing lapsed at +\(offset) ms")
            case .notFound:
                Issue.record("the user has a record")
            }
        }
    }
}
