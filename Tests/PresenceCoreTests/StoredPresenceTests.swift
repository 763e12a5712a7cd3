import Testing
@testable import PresenceCore

@Suite("StoredPresence")
struct StoredPresenceTests {
    @Test func responseBodyIsTheEncodedRecord() {
        let live = record(status: .away, message: "lunch", revision: 7)
        let stored = StoredPresence(live)
        #expect(stored.record == live)
        #expect(stored.responseBody == PresenceJSON.encodeResponse(live))
    }

    @Test func bodyOfALiveRecordIsTheCachedBody() {
        let stored = StoredPresence(record(status: .busy, message: "focus", updatedAt: t0, ttl: 10))
        #expect(stored.body(at: t0) == stored.responseBody)
        #expect(stored.body(at: at(t0, plusMillis: 10_000)) == stored.responseBody)
    }

    @Test func bodyOfAnExpiredRecordReadsOffline() {
        let live = record(status: .busy, message: "focus", lastSeen: t0, updatedAt: t0, ttl: 10, revision: 3)
        let stored = StoredPresence(live)
        let later = at(t0, plusMillis: 10_001)
        let body = stored.body(at: later)
        #expect(body != stored.responseBody)
        #expect(body == PresenceJSON.encodeResponse(live.publicView(at: later)))
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""status":"offline""#))
        #expect(text.contains(#""message":"""#))
        #expect(text.contains(#""revision":3"#))
    }

    @Test func costGrowsWithTheRecord() {
        let small = StoredPresence(record(message: ""))
        let large = StoredPresence(record(message: String(repeating: "x", count: 200)))
        #expect(small.cost > 0)
        #expect(large.cost >= small.cost + 200)  // the message is held once, in the body
        #expect(large.cost < small.cost + 400)
    }

    @Test func revisionsBeyondIntMaxReadBack() {
        let original = record(revision: UInt64.max)
        #expect(StoredPresence(original).record == original)
    }

    @Test("the record reads back from the body", arguments: ["", "plain", "quote \" backslash \\ tab \t", "héllo 😀", "\u{01}"])
    func theRecordReadsBackFromTheBody(_ message: String) {
        let original = record(status: .away, message: message, lastSeen: t0, updatedAt: at(t0, plusMillis: 1234), ttl: 86_400, revision: 99)
        let stored = StoredPresence(original)
        #expect(stored.record == original)
        #expect(stored.user == original.userID)
        #expect(stored.revision == 99)
        #expect(stored.status == .away)
        #expect(stored.changesAt == ExpiryRule.firstExpiredMoment(of: original.updatedAt.adding(seconds: 86_400)))
    }
}
