import NATSClient
import Testing

@testable import PresenceCore
@testable import PresenceStore

/// How a page of the audit trail is gathered from batched messages (SPEC §3c): one user's
/// entries out of a shard's, `since` on each entry's own time, the limit, where the next page
/// starts, and a bounded read.
@Suite("Audit page collector")
struct AuditPageCollectorTests {
    func line(_ user: String, _ time: String, _ revision: Int) -> String {
        #"{"time":"\#(time)","user":"\#(user)","change":"set","revision":\#(revision)}"#
    }

    func message(_ sequence: UInt64, _ lines: String...) -> StreamMessage {
        StreamMessage(
            subject: "presence-audit.7", sequence: sequence, storedAtNanoseconds: 0,
            payload: Array((lines.joined(separator: "\n") + "\n").utf8))
    }

    var stored: [StreamMessage] {
        [
            message(1, line("alice", "2026-12-07T10:00:00.000Z", 1), line("bob", "2026-12-07T10:00:00.010Z", 2)),
            StreamMessage(subject: "presence-audit.7", sequence: 2, storedAtNanoseconds: 0, payload: Array("not json\n".utf8)),
            // Another node's batch, stored later, holds an earlier time: stored order is what pages follow.
            message(3, line("alice", "2026-12-07T10:00:01.000Z", 3), line("alice", "2026-12-07T09:59:59.000Z", 4)),
            message(4, line("alice", "2026-12-07T10:00:03.000Z", 5)),
        ]
    }

    func collect(_ query: AuditQuery, _ messages: [StreamMessage]) -> (AuditPage, visited: Int) {
        var collector = AuditPageCollector(query)
        var visited = 0
        for message in messages {
            visited += 1
            if !collector.add(message) { break }
        }
        return (collector.page, visited)
    }

    func revisions(_ page: AuditPage) -> [String] {
        page.entries.map { String(decoding: $0, as: UTF8.self) }.map { String($0.split(separator: ":").last?.dropLast() ?? "") }
    }

    @Test func oneUsersEntriesSinceATimeUpToTheLimit() throws {
        let alice = try UserID(validating: "alice")
        let all = collect(AuditQuery(user: alice, since: nil, limit: 100), stored).0
        #expect(revisions(all) == ["1", "3", "4", "5"] && all.more == false && all.next == nil)

        let since = try #require(RFC3339.parse("2026-12-07T10:00:01.000Z"))
        let later = collect(AuditQuery(user: alice, since: since, limit: 100), stored).0
        #expect(revisions(later) == ["3", "5"], "each entry's own time, not the message's place")

        // The limit: two, and more (found in the same message as the second); reading stops there.
        let (page, visited) = collect(AuditQuery(user: alice, since: nil, limit: 2), stored)
        #expect(revisions(page) == ["1", "3"] && page.more == true && visited == 3)
        #expect(page.next == AuditCursor(sequence: 3, line: 0))
        // The next page starts after that entry: the earlier time stored after it is not skipped.
        let second = collect(AuditQuery(user: alice, since: nil, after: page.next, limit: 2), stored).0
        #expect(revisions(second) == ["4", "5"] && second.more == false)
        // Exactly the limit matched: no more.
        let exact = collect(AuditQuery(user: alice, since: nil, limit: 4), stored).0
        #expect(exact.entries.count == 4 && exact.more == false)
    }

    @Test func everyonesEntriesAreTakenAsStored() {
        let messages = [message(1, line("alice", "2026-12-07T10:00:00.000Z", 1), line("bob", "x", 2))]
            + [StreamMessage(subject: "presence-audit.0", sequence: 2, storedAtNanoseconds: 0, payload: Array("junk\n".utf8))]
        let page = collect(AuditQuery(user: nil, since: nil, limit: .max), messages).0
        #expect(page.entries.count == 3, "no filter, no parsing: a backup keeps every line")
        let filtered = collect(AuditQuery(user: nil, since: RFC3339.parse("2000-01-01T00:00:00Z"), limit: .max), messages).0
        #expect(filtered.entries.count == 1, "with a since, lines without a time are not entries")
    }

    @Test func aPageReadsAtMostItsShareOfTheStreamAndSaysWhereToGoOn() throws {
        let carol = try UserID(validating: "carol")
        let others = (1...UInt64(AuditPageCollector.maxMessages + 5)).map { message($0, line("dave", "2026-12-07T10:00:00.000Z", 1)) }
        let (page, visited) = collect(AuditQuery(user: carol, since: nil, limit: 10), others)
        #expect(page.entries.isEmpty && page.more && visited == AuditPageCollector.maxMessages)
        let next = try #require(page.next)
        #expect(next.sequence == UInt64(AuditPageCollector.maxMessages))
        #expect(!next.precedes(sequence: next.sequence, line: 0), "the next page starts after the whole message")
        #expect(next.precedes(sequence: next.sequence + 1, line: 0))
    }

    @Test func cursorsReadAndWriteAsSequenceDotLine() {
        #expect(AuditCursor("1523.4") == AuditCursor(sequence: 1523, line: 4))
        #expect(AuditCursor(sequence: 9, line: 0).description == "9.0")
        let biggest = AuditCursor(sequence: 5, line: .max)
        #expect(AuditCursor(biggest.description) == biggest)
        for bad in ["", "1", "1.", ".1", "0.1", "a.b", "1.2.3", "-1.0", "1.-2", "+1.2", "１.２", "99999999999999999999.0", "1.99999999999999999999"] {
            #expect(AuditCursor(bad) == nil, "\(bad)")
        }
        let page = AuditPage(entries: [Array("{}".utf8)], more: true, next: AuditCursor(sequence: 7, line: 2))
        #expect(String(decoding: page.encoded(), as: UTF8.self) == #"{"entries":[{}],"more":true,"next":"7.2"}"#)
        #expect(String(decoding: AuditPage(entries: [], more: false).encoded(), as: UTF8.self) == #"{"entries":[],"more":false}"#)
    }
}
