import Testing

@testable import PresenceCore
@testable import PresenceStore

/// How a page of the audit trail is gathered from batched messages (SPEC §3c): one user's
/// entries out of a shard's, `since` on each entry's own time, the limit and whether more matched.
@Suite("Audit page collector")
struct AuditPageCollectorTests {
    func line(_ user: String, _ time: String, _ revision: Int) -> String {
        #"{"time":"\#(time)","user":"\#(user)","change":"set","revision":\#(revision)}"#
    }

    func message(_ lines: String...) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }

    func collect(_ query: AuditQuery, _ stored: [[UInt8]]) -> (AuditPage, visited: Int) {
        var collector = AuditPageCollector(query)
        var visited = 0
        for payload in stored {
            visited += 1
            if !collector.add(payload) { break }
        }
        return (collector.page, visited)
    }

    @Test func oneUsersEntriesSinceATimeUpToTheLimit() throws {
        let stored = [
            message(line("alice", "2026-12-07T10:00:00.000Z", 1), line("bob", "2026-12-07T10:00:00.010Z", 2)),
            Array("not json\n".utf8),
            message(line("alice", "2026-12-07T10:00:01.000Z", 3), line("alice", "2026-12-07T10:00:02.000Z", 4)),
            message(line("alice", "2026-12-07T10:00:03.000Z", 5)),
        ]
        let alice = try UserID(validating: "alice")
        let all = collect(AuditQuery(user: alice, since: nil, limit: 100), stored).0
        #expect(all.entries.map { String(decoding: $0, as: UTF8.self) }.allSatisfy { $0.contains(#""user":"alice""#) })
        #expect(all.entries.count == 4 && all.more == false)

        let since = try #require(RFC3339.parse("2026-12-07T10:00:01.000Z"))
        let later = collect(AuditQuery(user: alice, since: since, limit: 100), stored).0
        #expect(later.entries.map { String(decoding: $0, as: UTF8.self) } == [
            line("alice", "2026-12-07T10:00:01.000Z", 3), line("alice", "2026-12-07T10:00:02.000Z", 4),
            line("alice", "2026-12-07T10:00:03.000Z", 5),
        ])

        // The limit: two, and more (found in the same message as the second); reading stops there.
        let (page, visited) = collect(AuditQuery(user: alice, since: nil, limit: 2), stored)
        #expect(page.entries.count == 2 && page.more == true && visited == 3)
        // Exactly the limit matched: no more.
        let exact = collect(AuditQuery(user: alice, since: nil, limit: 4), stored).0
        #expect(exact.entries.count == 4 && exact.more == false)
    }

    @Test func everyonesEntriesAreTakenAsStored() {
        let stored = [message(line("alice", "2026-12-07T10:00:00.000Z", 1), line("bob", "x", 2)), Array("junk\n".utf8)]
        let page = collect(AuditQuery(user: nil, since: nil, limit: .max), stored).0
        #expect(page.entries.count == 3, "no filter, no parsing: a backup keeps every line")
        let filtered = collect(AuditQuery(user: nil, since: RFC3339.parse("2000-01-01T00:00:00Z"), limit: .max), stored).0
        #expect(filtered.entries.count == 1, "with a since, lines without a time are not entries")
    }
}
