import Testing
@testable import PresenceCore

@Suite("PresenceChange write rules")
struct PresenceChangeTests {
    let user = uid("alice")
    let now = at(t0, plusMillis: 3_000)
    let earlier = at(t0, plusMillis: -3_600_000)

    func written(_ outcome: PresenceChange.Outcome, sourceLocation: SourceLocation = #_sourceLocation) -> PresenceRecord? {
        guard case .write(let record) = outcome else {
            Issue.record("expected a write, got \(outcome)", sourceLocation: sourceLocation)
            return nil
        }
        return record.single
    }

    // MARK: PUT

    @Test("PUT of a non-offline status sets last_seen to now", arguments: [PresenceStatus.online, .away, .busy])
    func putActive(status: PresenceStatus) throws {
        let current = record(status: .offline, message: "", lastSeen: earlier, updatedAt: earlier, ttl: 300, revision: 5)
        let change = PresenceChange.set(status: status, message: "back", ttl: 60)
        let next = try #require(written(change.apply(to: current, user: user, now: now, nodeID: "leaf-eu-1")))
        #expect(next.status == status)
        #expect(next.message == "back")
        #expect(next.ttl == 60)
        #expect(next.lastSeen == now)
        #expect(next.updatedAt == now)
        #expect(next.nodeID == "leaf-eu-1")
        #expect(next.userID == user)
        #expect(next.revision == 5, "the write is a compare-and-set on the revision it replaces")
    }

    @Test("PUT of a non-offline status for a new user", arguments: [PresenceStatus.online, .away, .busy])
    func putActiveNewUser(status: PresenceStatus) throws {
        let change = PresenceChange.set(status: status, message: "", ttl: 300)
        let next = try #require(written(change.apply(to: nil, user: user, now: now, nodeID: "n")))
        #expect(next.status == status)
        #expect(next.lastSeen == now)
        #expect(next.updatedAt == now)
        #expect(next.revision == 0)
    }

    @Test func putOfflineKeepsLastSeen() throws {
        let current = record(status: .busy, message: "meeting", lastSeen: earlier, updatedAt: earlier, ttl: 300, revision: 9)
        let change = PresenceChange.set(status: .offline, message: "gone fishing", ttl: 120)
        let next = try #require(written(change.apply(to: current, user: user, now: now, nodeID: "n2")))
        #expect(next.status == .offline)
        #expect(next.message == "gone fishing")
        #expect(next.ttl == 120)
        #expect(next.lastSeen == earlier)
        #expect(next.updatedAt == now)
        #expect(next.nodeID == "n2")
        #expect(next.revision == 9)
    }

    @Test func putOfflineForANewUserGetsNow() throws {
        let change = PresenceChange.set(status: .offline, message: "", ttl: 300)
        let next = try #require(written(change.apply(to: nil, user: user, now: now, nodeID: "n")))
        #expect(next.status == .offline)
        #expect(next.lastSeen == now)
        #expect(next.updatedAt == now)
    }

    @Test func putOnAnExpiredRecordWritesTheNewStatus() throws {
        let expired = record(status: .busy, lastSeen: earlier, updatedAt: earlier, ttl: 10, revision: 2)
        #expect(expired.isExpired(at: now))
        let next = try #require(
            written(PresenceChange.set(status: .online, message: "", ttl: 30).apply(to: expired, user: user, now: now, nodeID: "n")))
        #expect(next.status == .online)
        #expect(next.lastSeen == now)
        #expect(next.revision == 2)
    }

    // MARK: heartbeat

    @Test("heartbeat on a live record refreshes updated_at and last_seen", arguments: [PresenceStatus.online, .away, .busy])
    func heartbeatLive(status: PresenceStatus) throws {
        let current = record(status: status, message: "keep me", lastSeen: t0, updatedAt: t0, nodeID: "old", ttl: 10, revision: 4)
        let next = try #require(written(PresenceChange.heartbeat.apply(to: current, user: user, now: now, nodeID: "new")))
        #expect(next.status == status)
        #expect(next.message == "keep me")
        #expect(next.ttl == 10)
        #expect(next.updatedAt == now)
        #expect(next.lastSeen == now)
        #expect(next.nodeID == "new")
        #expect(next.revision == 4)
        #expect(!next.isExpired(at: at(now, plusMillis: 10_000)), "the heartbeat restarted the TTL")
    }

    @Test func heartbeatExactlyAtTheTTLIsStillLive() throws {
        let current = record(status: .online, updatedAt: t0, ttl: 10)
        let boundary = at(t0, plusMillis: 10_000)
        let next = try #require(written(PresenceChange.heartbeat.apply(to: current, user: user, now: boundary, nodeID: "n")))
        #expect(next.updatedAt == boundary)
    }

    @Test func heartbeatOnAnOfflineRecordChangesNothing() {
        let current = record(status: .offline, message: "", lastSeen: earlier, updatedAt: t0, ttl: 300, revision: 8)
        let outcome = PresenceChange.heartbeat.apply(to: current, user: user, now: now, nodeID: "n")
        #expect(outcome == .unchanged(UserPresence(single: current)))
    }

    @Test func heartbeatOnAnExpiredRecordReturnsItAsItReads() {
        let current = record(status: .busy, message: "meeting", lastSeen: earlier, updatedAt: t0, ttl: 10, revision: 8)
        let later = at(t0, plusMillis: 10_001)
        let outcome = PresenceChange.heartbeat.apply(to: current, user: user, now: later, nodeID: "n")
        #expect(outcome == .unchanged(UserPresence(single: current)))
        guard case .unchanged(let record) = outcome else { return }
        let reads = record.publicView(at: later)
        #expect(reads.status == .offline)
        #expect(reads.message == "")
        #expect(reads.lastSeen == earlier)
        #expect(reads.updatedAt == t0)
        #expect(reads.revision == 8)
    }

    @Test func heartbeatWithoutARecordIsNotFound() {
        #expect(PresenceChange.heartbeat.apply(to: nil, user: user, now: now, nodeID: "n") == .notFound)
    }

    // MARK: DELETE

    @Test("DELETE sets offline, clears the message and keeps last_seen", arguments: [PresenceStatus.online, .away, .busy, .offline])
    func goOffline(status: PresenceStatus) throws {
        let current = record(status: status, message: "meeting", lastSeen: earlier, updatedAt: t0, nodeID: "old", ttl: 300, revision: 11)
        let next = try #require(written(PresenceChange.goOffline.apply(to: current, user: user, now: now, nodeID: "new")))
        #expect(next.status == .offline)
        #expect(next.message == "")
        #expect(next.lastSeen == earlier)
        #expect(next.updatedAt == now)
        #expect(next.nodeID == "new")
        #expect(next.ttl == 300)
        #expect(next.revision == 11)
    }

    @Test func goOfflineOnAnExpiredRecordKeepsLastSeen() throws {
        let current = record(status: .busy, message: "meeting", lastSeen: earlier, updatedAt: earlier, ttl: 10, revision: 2)
        let next = try #require(written(PresenceChange.goOffline.apply(to: current, user: user, now: now, nodeID: "n")))
        #expect(next.status == .offline)
        #expect(next.message == "")
        #expect(next.lastSeen == earlier)
    }

    @Test func goOfflineWithoutARecordIsNotFound() {
        #expect(PresenceChange.goOffline.apply(to: nil, user: user, now: now, nodeID: "n") == .notFound)
    }
}
