import PresenceTestSupport
import Testing

@testable import PresenceCore

/// The combination rule of SPEC §2 over several sessions, expiry at its boundaries, the
/// session cap, and the single-record compatibility.
@Suite("Sessions: the combination rule")
struct SessionCombinationTests {
    let user = uid("alice")

    /// Applies `change` at `now` and returns the record to store.
    func write(_ change: PresenceChange, to current: UserPresence?, at now: Timestamp, maxSessions: Int = 16)
        -> UserPresence?
    {
        guard case .write(let next) = change.apply(to: current, user: user, now: now, nodeID: "n", maxSessions: maxSessions)
        else { return nil }
        return next.stored(at: (current?.revision ?? 0) + 1)
    }

    func put(_ session: String, _ status: PresenceStatus, message: String = "", ttl: Int = 60, expires: Timestamp? = nil)
        -> PresenceChange
    {
        .set(sid(session), .init(status: status, message: message, ttl: ttl, messageExpiresAt: expires))
    }

    @Test func twoDevicesReadAsTheMostPresentOne() throws {
        var record = try #require(write(put("desktop", .online), to: nil, at: t0))
        record = try #require(write(put("phone", .away, message: "on the go"), to: record, at: at(t0, plusMillis: 1_000)))
        let view = record.publicView(at: at(t0, plusMillis: 2_000))
        #expect(view.status == .online)
        #expect(view.sessions == 2)
        #expect(view.message == "on the go", "the message of the most recently updated live session that has one")
        #expect(view.updatedAt == at(t0, plusMillis: 1_000))
        // The phone signs out: the desktop still counts.
        record = try #require(write(.endSession(sid("phone")), to: record, at: at(t0, plusMillis: 3_000)))
        let after = record.publicView(at: at(t0, plusMillis: 3_000))
        #expect(after.status == .online)
        #expect(after.sessions == 1)
        #expect(after.message == "")
        #expect(after.lastSeen == at(t0, plusMillis: 1_000), "an ended session's last_seen still counts")
        #expect(after.updatedAt == at(t0, plusMillis: 3_000), "ending a session is a write: updated_at never goes back")
    }

    @Test("precedence busy > online > away > offline", arguments: [
        ([PresenceStatus.away, .online, .busy], PresenceStatus.busy), ([.away, .online], .online), ([.away, .offline], .away),
        ([.offline, .offline], .offline),
    ])
    func precedence(statuses: [PresenceStatus], expected: PresenceStatus) throws {
        var record: UserPresence?
        for (index, status) in statuses.enumerated() {
            record = write(put("s\(index)", status), to: record, at: at(t0, plusMillis: Int64(index)))
        }
        #expect(try #require(record).publicView(at: at(t0, plusMillis: 10)).status == expected)
    }

    @Test func aSessionExpiresExactlyAfterItsTTLAndTheUserFallsBackToTheOthers() throws {
        var record = try #require(write(put("phone", .away, ttl: 600), to: nil, at: t0))
        record = try #require(write(put("desktop", .online, ttl: 10), to: record, at: t0))
        let expiresAt = at(t0, plusMillis: 10_000)
        #expect(record.publicView(at: expiresAt).status == .online, "still live at updated_at + ttl")
        #expect(record.publicView(at: at(expiresAt, plusMillis: 1)).status == .away, "expired one millisecond later")
        #expect(record.publicView(at: at(expiresAt, plusMillis: 1)).sessions == 1)
        #expect(record.nextChange(after: t0) == at(expiresAt, plusMillis: 1))
        // The sweeper persists it; the view does not change by that.
        let swept = try #require(write(.expire, to: record, at: at(expiresAt, plusMillis: 5)))
        #expect(swept.session(sid("desktop"))?.status == .offline)
        #expect(swept.session(sid("desktop"))?.updatedAt == expiresAt)
        var seen = swept.publicView(at: at(expiresAt, plusMillis: 5))
        var before = record.publicView(at: at(expiresAt, plusMillis: 5))
        seen.revision = 0
        before.revision = 0
        #expect(seen.status == before.status && seen.message == before.message && seen.sessions == before.sessions)
        #expect(write(.expire, to: swept, at: at(expiresAt, plusMillis: 6)) == nil, "nothing more to persist")
    }

    @Test func aMessageReadsEmptyFromItsExpiryOn() throws {
        let expiry = at(t0, plusMillis: 30_000)
        let record = try #require(write(put("default", .busy, message: "meeting", ttl: 300, expires: expiry), to: nil, at: t0))
        #expect(record.publicView(at: at(expiry, plusMillis: -1)).message == "meeting")
        #expect(record.publicView(at: expiry).message == "")
        #expect(record.publicView(at: expiry).status == .busy)
        #expect(record.nextChange(after: t0) == expiry)
        let stored = StoredPresence(record)
        #expect(!stored.isStale(at: at(expiry, plusMillis: -1)))
        #expect(stored.isStale(at: expiry))
        #expect(stored.body(at: expiry) == PresenceJSON.encodeResponse(record.publicView(at: expiry)))
        let swept = try #require(write(.expire, to: record, at: expiry))
        #expect(swept.session(.defaultSession)?.message == "")
        #expect(swept.session(.defaultSession)?.status == .busy)
        #expect(swept.singleRecord != nil, "once the message is gone the record is a plain single record again")
    }

    @Test func aNewSessionPastTheCapEndsTheLeastRecentlyUpdated() throws {
        var record = try #require(write(put("a", .online), to: nil, at: t0, maxSessions: 2))
        record = try #require(write(put("b", .online), to: record, at: at(t0, plusMillis: 1), maxSessions: 2))
        record = try #require(write(put("a", .away), to: record, at: at(t0, plusMillis: 2), maxSessions: 2))
        record = try #require(write(put("c", .busy), to: record, at: at(t0, plusMillis: 3), maxSessions: 2))
        #expect(record.sessions.map(\.id.rawValue).sorted() == ["a", "c"], "b was the least recently updated")
        // Updating an existing session never evicts.
        record = try #require(write(put("c", .online), to: record, at: at(t0, plusMillis: 4), maxSessions: 2))
        #expect(record.sessions.count == 2)
    }

    @Test func heartbeatsAndEndingSessions() throws {
        var record = try #require(write(put("phone", .online, ttl: 10), to: nil, at: t0))
        #expect(write(.heartbeat(sid("desktop"), sessionRequired: true), to: record, at: t0) == nil)
        #expect(
            PresenceChange.heartbeat(sid("desktop"), sessionRequired: true).apply(to: record, user: user, now: t0, nodeID: "n", maxSessions: 16)
                == .notFound)
        #expect(
            PresenceChange.heartbeat(sid("desktop"), sessionRequired: false).apply(to: record, user: user, now: t0, nodeID: "n", maxSessions: 16)
                == .unchanged(record))
        #expect(PresenceChange.endSession(sid("desktop")).apply(to: record, user: user, now: t0, nodeID: "n", maxSessions: 16) == .notFound)
        record = try #require(write(.heartbeat(sid("phone"), sessionRequired: true), to: record, at: at(t0, plusMillis: 9_000)))
        #expect(record.publicView(at: at(t0, plusMillis: 18_000)).status == .online)
        let ended = try #require(write(.endAll, to: record, at: at(t0, plusMillis: 9_500)))
        let view = ended.publicView(at: at(t0, plusMillis: 9_500))
        #expect(view.status == .offline && view.sessions == 0 && view.lastSeen == at(t0, plusMillis: 9_000))
        #expect(view.updatedAt == at(t0, plusMillis: 9_500))
    }

    @Test func aRecordInTheSingleRecordFormReadsAsSessionDefault() throws {
        let value = Array(
            #"{"user_id":"alice","status":"busy","message":"old","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","node_id":"v01","ttl":300}"#
                .utf8)
        let record = try #require(UserPresenceJSON.decodeValue(value, revision: 7))
        #expect(record.sessions.count == 1)
        #expect(record.sessions[0].id == .defaultSession)
        #expect(record.sessions[0].status == .busy && record.sessions[0].message == "old")
        let view = record.publicView(at: t0)
        #expect(view.status == .busy && view.revision == 7 && view.sessions == 1)
        #expect(UserPresenceJSON.encodeValue(record) == value, "a plain default session is still written in that form")
    }

    @Test func theSessionFormRoundTrips() throws {
        var record = try #require(
            write(put("desktop", .busy, message: "x\"y", ttl: 120, expires: at(t0, plusMillis: 60_000)), to: nil, at: t0))
        record = try #require(write(put("phone", .invisible), to: record, at: at(t0, plusMillis: 5)))
        let value = UserPresenceJSON.encodeValue(record)
        #expect(UserPresenceJSON.decodeValue(value, revision: record.revision) == record)
        let stored = StoredPresence(record, encodedValue: value)
        #expect(stored.userPresence == record)
        #expect(StoredPresence(record).userPresence == record)
    }

    @Test func sessionIDs() {
        for valid in ["default", "a", "web:tab-1.x_2", String(repeating: "z", count: 64)] {
            #expect(errorCode { _ = try SessionID(validating: valid) } == nil, "\(valid)")
        }
        for invalid in ["", String(repeating: "z", count: 65), "a b", "a/b", "é", "a|b"] {
            #expect(errorCode { _ = try SessionID(validating: invalid) } == .invalidSessionID, "\(invalid)")
        }
    }
}
