import Testing

@testable import PresenceCore

/// Invisible (SPEC §2): everyone else reads `offline`, and nothing they can observe changes
/// while the user stays invisible; the user reads the real fields.
@Suite("Sessions: invisible")
struct InvisibleSessionTests {
    let user = uid("ivy")

    func write(_ change: PresenceChange, to current: UserPresence?, at now: Timestamp) -> UserPresence? {
        guard case .write(let next) = change.apply(to: current, user: user, now: now, nodeID: "n", maxSessions: 16) else { return nil }
        return next.stored(at: (current?.revision ?? 0) + 1)
    }

    func put(_ session: String, _ status: PresenceStatus, message: String = "", ttl: Int = 600) -> PresenceChange {
        .set(sid(session), .init(status: status, message: message, ttl: ttl))
    }

    @Test func nothingObservableChangesWhileInvisible() throws {
        var record = try #require(write(put("desktop", .online, message: "here"), to: nil, at: t0))
        record = try #require(write(put("phone", .invisible, message: "secret"), to: record, at: at(t0, plusMillis: 1_000)))
        let frozen = StoredPresence(record)
        let frozenView = record.publicView(at: at(t0, plusMillis: 1_000))
        #expect(frozenView.status == .offline && frozenView.message == "" && frozenView.sessions == 0)
        #expect(frozen.publicRevision == record.revision, "going from online to offline is one observable change")
        let owner = record.ownerView(at: at(t0, plusMillis: 1_000))
        #expect(owner.status == .invisible && owner.message == "secret" && owner.sessions == 2)

        // Heartbeats, a new message, a new session, an ended session, a sweep: the public sees nothing.
        let steps: [PresenceChange] = [
            .heartbeat(sid("phone"), sessionRequired: true), put("phone", .invisible, message: "other"),
            put("tablet", .busy, message: "busy"), .heartbeat(sid("desktop"), sessionRequired: true),
            .endSession(sid("tablet")), put("desktop", .away), .expire,
        ]
        var time = at(t0, plusMillis: 1_000)
        for step in steps {
            time = at(time, plusMillis: 2_000)
            if let next = write(step, to: record, at: time) { record = next }
            let stored = StoredPresence(record)
            #expect(stored.publicRevision == frozen.publicRevision, "\(step)")
            #expect(stored.body(at: time) == frozen.body(at: time), "\(step)")
            #expect(stored.viewDigest(at: time) == frozen.viewDigest(at: time), "\(step)")
            #expect(record.publicView(at: time) == frozenView, "\(step)")
        }
        #expect(record.revision > frozen.revision, "the writes were stored")

        // Visible again: the public sees the real presence, without the invisible session's fields.
        record = try #require(write(put("phone", .online), to: record, at: at(time, plusMillis: 1)))
        let visible = record.publicView(at: at(time, plusMillis: 1))
        #expect(visible.status == .online && visible.revision == record.revision && record.hidden == nil)
    }

    @Test func goingInvisibleWhileOfflineChangesNothingAtAll() throws {
        var record = try #require(write(put("default", .offline), to: nil, at: t0))
        let before = StoredPresence(record)
        record = try #require(write(put("default", .invisible), to: record, at: at(t0, plusMillis: 60_000)))
        let after = StoredPresence(record)
        #expect(after.publicRevision == before.publicRevision)
        #expect(after.body(at: at(t0, plusMillis: 60_000)) == before.body(at: at(t0, plusMillis: 60_000)))
        #expect(record.ownerView(at: at(t0, plusMillis: 60_000)).status == .invisible)
    }

    @Test func theCachedPublicBodyDoesNotGoStaleWhileInvisible() throws {
        var record = try #require(write(put("desktop", .online, ttl: 10), to: nil, at: t0))
        record = try #require(write(put("phone", .invisible, ttl: 600), to: record, at: t0))
        let stored = StoredPresence(record)
        // The desktop expires at 10 s: nothing a public reader sees changes, so not even a 304 turns into a 200.
        #expect(!stored.isStale(at: at(t0, plusMillis: 10_001)))
        #expect(stored.changesAt == at(t0, plusMillis: 600_001), "only the end of the invisibility")
        #expect(stored.publicRevision(at: at(t0, plusMillis: 600_001)) == record.revision)
    }

    @Test func goingOfflineFromInvisibleKeepsThePublicLastSeen() throws {
        var record = try #require(write(put("desktop", .online), to: nil, at: t0))
        record = try #require(write(.endSession(sid("desktop")), to: record, at: at(t0, plusMillis: 1_000)))
        record = try #require(write(put("phone", .invisible), to: record, at: at(t0, plusMillis: 2_000)))
        record = try #require(write(put("phone", .offline), to: record, at: at(t0, plusMillis: 9_000)))
        #expect(record.publicView(at: at(t0, plusMillis: 9_000)).lastSeen == t0)
    }

    @Test func theInvisibleSessionsActivityNeverReachesThePublicLastSeen() throws {
        var record = try #require(write(put("desktop", .online, ttl: 10), to: nil, at: t0))
        record = try #require(write(put("phone", .invisible, ttl: 10), to: record, at: at(t0, plusMillis: 5_000)))
        record = try #require(write(.heartbeat(sid("phone"), sessionRequired: true), to: record, at: at(t0, plusMillis: 12_000)))
        // The invisible session expires: the user is visible again, and offline.
        let later = at(t0, plusMillis: 30_000)
        let view = record.publicView(at: later)
        #expect(view.status == .offline)
        #expect(view.lastSeen == t0, "only the desktop's activity is public")
        #expect(record.ownerView(at: later).lastSeen == at(t0, plusMillis: 12_000))
    }
}

/// Properties of the combination rule over random session sets (reproducible seeds).
@Suite("Sessions: properties of the combination rule")
struct SessionCombinationPropertyTests {
    static func randomSessions(_ generator: inout SplitMix64) -> [PresenceSession] {
        let statuses = PresenceStatus.allCases
        let count = Int.random(in: 1...6, using: &generator)
        return (0..<count).map { index in
            let updated = at(t0, plusMillis: Int64.random(in: 0...20_000, using: &generator))
            let message = Bool.random(using: &generator) ? "" : "m\(Int.random(in: 0...3, using: &generator))"
            let expires: Timestamp? =
                Bool.random(using: &generator) ? at(updated, plusMillis: Int64.random(in: 1...30_000, using: &generator)) : nil
            return PresenceSession(
                id: sid("s\(index)"),
                status: statuses.randomElement(using: &generator) ?? .online, message: message, messageExpiresAt: expires,
                ttl: Int.random(in: 10...30, using: &generator), updatedAt: updated,
                lastSeen: at(updated, plusMillis: -Int64.random(in: 0...5_000, using: &generator)), nodeID: "n\(index)")
        }
    }

    static func record(_ sessions: [PresenceSession]) -> UserPresence {
        UserPresence(userID: uid("p"), sessions: sessions, lastSeen: t0, updatedAt: t0, nodeID: "n", ttl: 60, revision: 9)
    }

    @Test("the order of the sessions (of writes) does not matter", arguments: 0..<200)
    func orderDoesNotMatter(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let sessions = Self.randomSessions(&generator)
        let a = Self.record(sessions)
        let b = Self.record(sessions.shuffled(using: &generator))
        for offset in stride(from: Int64(0), through: 60_000, by: 997) {
            let now = at(t0, plusMillis: offset)
            #expect(a.publicView(at: now) == b.publicView(at: now))
            #expect(a.ownerView(at: now) == b.ownerView(at: now))
        }
    }

    @Test("the view never changes between the moments it says it changes", arguments: 0..<200)
    func neverFlaps(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let record = Self.record(Self.randomSessions(&generator))
        var now = at(t0, plusMillis: Int64.random(in: 0...20_000, using: &generator))
        for _ in 0..<10 {
            let view = record.publicView(at: now)
            guard let next = record.nextChange(after: now) else {
                #expect(record.publicView(at: at(now, plusMillis: 86_400_000)) == view)
                return
            }
            #expect(next > now)
            #expect(record.publicView(at: at(next, plusMillis: -1)) == view, "unchanged until the announced moment")
            let halfway = at(now, plusMillis: (next.millisecondsSinceEpoch - now.millisecondsSinceEpoch) / 2)
            #expect(record.publicView(at: halfway) == view)
            now = next
        }
    }

    @Test("the cached body is the view at any time", arguments: 0..<200)
    func cachedBodyIsTheView(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let record = Self.record(Self.randomSessions(&generator))
        let stored = StoredPresence(record)
        #expect(stored.userPresence == record)
        for offset in stride(from: Int64(0), through: 60_000, by: 1_009) {
            let now = at(t0, plusMillis: offset)
            guard now >= record.lastWritten else { continue }
            #expect(stored.body(at: now) == PresenceJSON.encodeResponse(record.publicView(at: now)))
        }
    }
}
