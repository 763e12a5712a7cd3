import Foundation
import NATSClient
import PresenceCore

/// Gathers the page of an audit query from the stream's messages, in stored order: the entries
/// after the query's cursor, of its user (a shard's messages hold other users' too), made at or
/// after its `since`, up to its limit. A page ends early, with `more` and where to go on, once
/// one more entry matched, or once ``maxMessages`` messages were read (a rare user's entries
/// over a month of a shard: the reader asks again instead of one request scanning it all).
///
/// A line that is not an entry (nothing this service wrote) is skipped when the query filters;
/// everyone's entries since the first (a backup) are taken as stored, without parsing.
struct AuditPageCollector: Sendable {
    /// The most messages one page reads.
    static let maxMessages = 20_000

    let query: AuditQuery
    private(set) var entries: [[UInt8]] = []
    private(set) var more = false
    private(set) var next: AuditCursor?
    private var messagesRead = 0
    /// `"user":"<the id>"` as the entries spell it: lines without it are not parsed.
    private let userField: [UInt8]?

    init(_ query: AuditQuery) {
        self.query = query
        userField = query.user.map { user in
            var json = JSONObjectWriter()
            json.add("user", user.rawValue)
            return Array(json.finish().dropFirst().dropLast())  // without the braces
        }
    }

    /// The page gathered so far.
    var page: AuditPage { AuditPage(entries: entries, more: more, next: more ? next : nil) }

    /// Takes the matching entries of one stored message.
    /// - Returns: whether to read on.
    mutating func add(_ message: StreamMessage) -> Bool {
        for (line, text) in AuditBatch.lines(of: message.payload).enumerated() {
            if let after = query.after, !after.precedes(sequence: message.sequence, line: line) { continue }
            guard matches(text) else { continue }
            guard entries.count < query.limit else {
                more = true
                return false
            }
            entries.append(Array(text))
            next = AuditCursor(sequence: message.sequence, line: line)
        }
        messagesRead += 1
        if messagesRead >= Self.maxMessages {
            more = true
            next = AuditCursor(sequence: message.sequence, line: .max)
            return false
        }
        return true
    }

    private func matches(_ line: ArraySlice<UInt8>) -> Bool {
        guard query.user != nil || query.since != nil else { return true }
        if let userField, line.firstRange(of: userField) == nil { return false }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let user = object["user"] as? String, let time = (object["time"] as? String).flatMap(RFC3339.parse)
        else { return false }
        if let wanted = query.user, wanted.rawValue != user { return false }
        if let since = query.since, time < since { return false }
        return true
    }
}
