import NIOConcurrencyHelpers
import Testing
@testable import PresenceCore

/// What a node does with heartbeats (SPEC §3a): the replica's apply-heartbeat rule, the merge
/// of heard heartbeats into a newer revision, and the listening floor ("no expiry decisions
/// before one heartbeat period").
struct HeartbeatReplicaTests {
    let alice = uid("alice")

    /// A replica holding alice: online since t0, TTL 10 s, at revision 7.
    func replica(changes: NIOLockedValueBox<[StoredPresence]>? = nil) -> PresenceReplica {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5) { stored in
            changes?.withLockedValue { $0.append(stored) }
        }
        replica.apply(StoredPresence(record("alice", status: .online, ttl: 10, revision: 7)))
        return replica
    }

    func held(_ replica: PresenceReplica) throws -> StoredPresence {
        try #require(replica.held(alice))
    }

    @Test func aHeartbeatMovesTheSessionButNotTheRevision() throws {
        let changes = NIOLockedValueBox<[StoredPresence]>([])
        let replica = replica(changes: changes)
        let time = at(t0, plusMillis: 8_000)
        let refreshed = try #require(replica.applyHeartbeat(user: alice, session: .defaultSession, at: time, nodeID: "leaf-2"))
        #expect(refreshed.revision == 7)
        #expect(refreshed.record.updatedAt == time && refreshed.record.lastSeen == time && refreshed.record.nodeID == "leaf-2")
        #expect(refreshed.heardAt == time && refreshed.publicHeardAt == time)
        #expect(try held(replica) == refreshed)
        // Live until the new deadline, and offline just after it.
        #expect(refreshed.publicView(at: at(time, plusMillis: 10_000)).status == .online)
        #expect(refreshed.publicView(at: at(time, plusMillis: 10_001)).status == .offline)
        #expect(changes.withLockedValue { $0.count } == 1, "a heartbeat sends no stream event")
    }

    @Test func aHeartbeatNeverMovesASessionBackwards() throws {
        let replica = replica()
        let later = at(t0, plusMillis: 5_000)
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: later, nodeID: "a") != nil)
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: 4_000), nodeID: "b") == nil)
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: later, nodeID: "b") == nil)
        #expect(try held(replica).record.updatedAt == later)
        #expect(try held(replica).record.nodeID == "a")
    }

    @Test func aHeartbeatOlderThanTheStoredWriteIsIgnored() {
        let replica = replica()
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: -1), nodeID: "a") == nil)
    }

    @Test func heartbeatsForEndedOfflineOrUnknownSessionsAreIgnored() {
        let replica = replica()
        let time = at(t0, plusMillis: 1_000)
        #expect(replica.applyHeartbeat(user: alice, session: sid("phone"), at: time, nodeID: "a") == nil, "no such session")
        #expect(replica.applyHeartbeat(user: uid("nobody"), session: .defaultSession, at: time, nodeID: "a") == nil)
        replica.apply(StoredPresence(record("alice", status: .offline, ttl: 10, revision: 8)))
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: time, nodeID: "a") == nil, "offline")
        // An expired session reads offline: a heartbeat does not bring it back (a PUT does).
        let late = at(t0, plusMillis: 11_000)
        replica.apply(StoredPresence(record("alice", status: .online, ttl: 10, revision: 9)))
        #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: late, nodeID: "a") == nil, "expired")
    }

    @Test func aNewerRevisionKeepsTheHeartbeatsHeardSinceItsWrite() throws {
        let replica = replica()
        let heard = at(t0, plusMillis: 9_000)
        _ = replica.applyHeartbeat(user: alice, session: .defaultSession, at: heard, nodeID: "leaf-2")
        // Another node changed the message at t0 + 3 s from a copy that had not heard the heartbeat.
        let written = record("alice", status: .online, message: "new", updatedAt: at(t0, plusMillis: 3_000), ttl: 10, revision: 8)
        #expect(replica.apply(StoredPresence(written)))
        let now = try held(replica)
        #expect(now.revision == 8 && now.record.message == "new")
        #expect(now.record.updatedAt == heard, "the heartbeat heard after that write still counts")
        #expect(now.publicView(at: at(heard, plusMillis: 10_000)).status == .online)
        #expect(now.heardAt == heard)
    }

    @Test func aRevisionThatEndsOrSetsTheSessionOfflineDropsWhatWasHeard() throws {
        let replica = replica()
        _ = replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: 9_000), nodeID: "leaf-2")
        let offline = record("alice", status: .offline, message: "", updatedAt: at(t0, plusMillis: 3_000), ttl: 10, revision: 8)
        replica.apply(StoredPresence(offline))
        #expect(try held(replica).record.updatedAt == at(t0, plusMillis: 3_000))
        #expect(try held(replica).heardAt == nil)
        // A later write of its own that is later than anything heard: nothing to keep.
        replica.apply(StoredPresence(record("alice", updatedAt: at(t0, plusMillis: 20_000), revision: 9)))
        #expect(try held(replica).heardAt == nil)
    }

    @Test func aNodeThatJustStartedListeningAssumesEveryoneAliveForOneTTL() throws {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        // Stored an hour ago; since then only heartbeats this node did not hear.
        let hourAgo = record("alice", status: .online, updatedAt: t0, ttl: 10, revision: 7)
        replica.apply(StoredPresence(hourAgo))
        let floor = at(t0, plusMillis: 3_600_000)
        replica.assumeAlive(since: floor)
        // Applied after the floor was set, too.
        replica.apply(StoredPresence(record("bob", status: .busy, updatedAt: t0, ttl: 10, revision: 8)))
        replica.apply(StoredPresence(record("carol", status: .offline, updatedAt: t0, ttl: 10, revision: 9)))
        for user in ["alice", "bob"] {
            let stored = try #require(replica.held(uid(user)))
            #expect(stored.publicView(at: at(floor, plusMillis: 10_000)).status != .offline, "\(user) within one TTL of the floor")
            #expect(!stored.isStale(at: at(floor, plusMillis: 10_000)))
            #expect(stored.publicView(at: at(floor, plusMillis: 10_001)).status == .offline, "\(user) unheard for a TTL")
            #expect(stored.publicView(at: floor).updatedAt == t0, "what reads show does not move")
            #expect(stored.heardAt == nil)
        }
        #expect(try #require(replica.held(uid("carol"))).changesAt == nil)
        // A heartbeat heard after the floor counts from its own time.
        let beat = at(floor, plusMillis: 5_000)
        let refreshed = try #require(replica.applyHeartbeat(user: alice, session: .defaultSession, at: beat, nodeID: "leaf-2"))
        #expect(refreshed.publicView(at: at(beat, plusMillis: 10_000)).status == .online)
        #expect(refreshed.publicView(at: at(beat, plusMillis: 10_001)).status == .offline)
    }

    @Test func theFloorOnlyMovesForward() throws {
        let replica = replica()
        replica.assumeAlive(since: at(t0, plusMillis: 60_000))
        replica.assumeAlive(since: at(t0, plusMillis: 30_000))
        #expect(replica.livenessFloor == at(t0, plusMillis: 60_000))
        #expect(try held(replica).publicView(at: at(t0, plusMillis: 69_000)).status == .online)
    }

    @Test func aFloorOnAMultiSessionRecordKeepsItsBodyRight() throws {
        // Two sessions: the phone written long ago, the desktop later; the body is the view at the desktop's write.
        var user = UserPresence(single: record("alice", status: .online, updatedAt: t0, ttl: 10, revision: 0))
        let desktop = PresenceChange.set(sid("desktop"), .init(status: .away, message: "", ttl: 600))
        guard case .write(let both) = desktop.apply(
            to: user, user: alice, now: at(t0, plusMillis: 100_000), nodeID: "n", maxSessions: 16)
        else { Issue.record("the desktop write wrote nothing"); return }
        user = both.stored(at: 5)
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(StoredPresence(user))
        #expect(try held(replica).publicView(at: at(t0, plusMillis: 100_000)).status == .away, "the phone expired long ago")
        replica.assumeAlive(since: at(t0, plusMillis: 200_000))
        let assumed = try held(replica)
        #expect(assumed.body(at: at(t0, plusMillis: 205_000)) == assumed.responseBody)
        #expect(assumed.publicView(at: at(t0, plusMillis: 205_000)).status == .online, "the phone counts again until floor + ttl")
        #expect(assumed.publicView(at: at(t0, plusMillis: 210_001)).status == .away)
    }

    @Test func anInvisibleUsersHeartbeatChangesNothingThePublicSees() throws {
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        let hide = PresenceChange.set(.defaultSession, .init(status: .invisible, message: "", ttl: 60))
        guard case .write(let hidden) = hide.apply(to: nil, user: alice, now: t0, nodeID: "n", maxSessions: 16) else {
            Issue.record("going invisible wrote nothing")
            return
        }
        let before = StoredPresence(hidden.stored(at: 3))
        replica.apply(before)
        let refreshed = try #require(
            replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: 30_000), nodeID: "n"))
        #expect(refreshed.heardAt != nil)
        #expect(refreshed.publicHeardAt == nil)
        #expect(refreshed.responseBody == before.responseBody)
        #expect(refreshed.publicRevision == before.publicRevision)
    }

    @Test func oneLostBatchNeverMakesAUserWhoHeartbeatsAtATTLThirdOffline() throws {
        // TTL 12 s, a heartbeat every 4 s (ttl / 3), the one at 8 s lost: online throughout.
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(StoredPresence(record("alice", status: .online, updatedAt: t0, ttl: 12, revision: 7)))
        var previous: Int64 = 0
        for second: Int64 in [4, 12, 16] {
            let stored = try held(replica)
            defer { previous = second }
            for millis in stride(from: previous * 1_000, through: second * 1_000, by: 250) {
                #expect(stored.publicView(at: at(t0, plusMillis: millis)).status == .online, "at \(millis) ms")
            }
            #expect(replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: second * 1_000), nodeID: "l") != nil)
        }
    }

    @Test func aRecordWhoseLiveSessionHadExpiredAtItsLastWriteIsAssumedAliveToo() throws {
        // The phone heartbeats on the plane (its stored time stays t0); another node, which had
        // not heard it, ends the web session a minute later: the stored record has nothing live.
        let phone = PresenceSession(id: sid("phone"), status: .online, message: "", ttl: 10, updatedAt: t0, lastSeen: t0, nodeID: "a")
        let minuteLater = at(t0, plusMillis: 60_000)
        let record = UserPresence(
            userID: alice, sessions: [phone], lastSeen: t0, updatedAt: minuteLater, nodeID: "b", ttl: 10, revision: 9)
        let stored = StoredPresence(record)
        #expect(stored.changesAt == nil, "nothing changes by itself from its last write on")
        let floor = at(t0, plusMillis: 120_000)
        let assumed = try #require(stored.assumingAlive(since: floor))
        #expect(assumed.publicView(at: at(floor, plusMillis: 10_000)).status == .online)
        #expect(assumed.publicView(at: at(floor, plusMillis: 10_001)).status == .offline)
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.assumeAlive(since: floor)
        replica.apply(stored)
        let beat = at(floor, plusMillis: 3_000)
        #expect(replica.applyHeartbeat(user: alice, session: sid("phone"), at: beat, nodeID: "a") != nil, "its heartbeats count again")
    }

    @Test func everyHeartbeatAppliedGivesAnotherStampEvenOneHeardLate() throws {
        let sessions = ["default", "phone"].map {
            PresenceSession(id: sid($0), status: .online, message: "", ttl: 10, updatedAt: t0, lastSeen: t0, nodeID: "a")
        }
        let replica = PresenceReplica(maxCost: 1 << 20, negativeTTLSeconds: 5)
        replica.apply(StoredPresence(UserPresence(userID: alice, sessions: sessions, lastSeen: t0, updatedAt: t0, nodeID: "a", ttl: 10, revision: 7)))
        let first = try #require(replica.applyHeartbeat(user: alice, session: .defaultSession, at: at(t0, plusMillis: 5_000), nodeID: "a"))
        // The phone's heartbeat from before that one, heard later (batches cross): the body changes.
        let late = try #require(replica.applyHeartbeat(user: alice, session: sid("phone"), at: at(t0, plusMillis: 4_000), nodeID: "b"))
        let stamps = [first.heardAt, late.heardAt].compactMap { $0?.millisecondsSinceEpoch }
        #expect(stamps.count == 2 && stamps[1] > stamps[0], "\(stamps)")
        #expect(late.userPresence.session(sid("phone"))?.updatedAt == at(t0, plusMillis: 4_000))
    }

    @Test func theSweepersScheduleFollowsAHeartbeat() throws {
        let replica = replica()
        let schedule = ExpirySchedule(retentionSeconds: nil)
        replica.feedExpiries(to: schedule)
        let beat = at(t0, plusMillis: 8_000)
        _ = replica.applyHeartbeat(user: alice, session: .defaultSession, at: beat, nodeID: "leaf-2")
        #expect(schedule.due(now: at(t0, plusMillis: 10_001), limit: 10).isEmpty, "not due at the old deadline")
        #expect(schedule.due(now: at(beat, plusMillis: 10_001), limit: 10) == [.init(user: alice, revision: 7)])
    }
}
