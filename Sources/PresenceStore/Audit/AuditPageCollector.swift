import Foundation
import PresenceCore

/// Gathers the page of an audit query from the stream's messages, oldest first: the entries
/// of the query's user (a shard's messages hold other users' too) made at or after its
/// `since`, up to its limit, and whether one more matched.
///
/// A line that is not an entry (nothing this service wrote) is skipped when the query filters;
/// everyone's entries since the first (a backup) are taken as stored, without parsing.
struct AuditPageCollector: Sendable {
    let query: AuditQuery
    private(set) var entries: [[UInt8]] = []
    private(set) var more = false

    init(_ query: AuditQuery) {
        self.query = query
    }

    /// The page gathered so far.
    var page: AuditPage { AuditPage(entries: entries, more: more) }

    /// Takes the matching entries of one stored message.
    /// - Returns: whether to read on (false once one more than the limit matched).
    mutating func add(_ payload: [UInt8]) -> Bool {
        for line in AuditBatch.lines(of: payload) where matches(line) {
            guard entries.count < query.limit else {
                more = true
                return false
            }
            entries.append(Array(line))
        }
        return true
    }

    private func matches(_ line: ArraySlice<UInt8>) -> Bool {
        guard query.user != nil || query.since != nil else { return true }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let user = object["user"] as? String, let time = (object["time"] as? String).flatMap(RFC3339.parse)
        else { return false }
        if let wanted = query.user, wanted.rawValue != user { return false }
        if let since = query.since, time < since { return false }
        return true
    }
}
