import PresenceCore

/// `ETag`, `If-Match` and `If-None-Match` handling. The one place where an ETag is written
/// or compared.
///
/// A record's strong ETag is its revision in double quotes, `"42"`; once heartbeats this node
/// heard moved the body without a new revision (SPEC §3a), the revision and a heartbeat stamp
/// in milliseconds (`StoredPresence.heardStamp(after:)`), `"42.1733000000123"`. So a
/// conditional GET never answers 304 for a body that changed, and `If-Match` compares the
/// revision alone: a heartbeat never makes a conditional write fail.
enum EntityTag {
    /// The ETag of a revision: `"42"`, or with a heartbeat heard since `"42.1733000000123"`.
    static func of(_ revision: UInt64, heardAt: Timestamp? = nil) -> String {
        guard let heardAt else { return "\"\(revision)\"" }
        return "\"\(revision).\(heardAt.millisecondsSinceEpoch)\""
    }

    /// Parses `If-Match`: `*`, or a list of strong tags such as `"42"` or `"42.1733000000123"`
    /// (the revision counts, not the heartbeat). Only tags exactly as this service writes them
    /// can match (strong comparison): weak tags, `"042"` or `"+42"` never do.
    static func parseIfMatch(_ header: String?) -> RevisionMatch? {
        guard let header else { return nil }
        let tags = HeaderValue.list(header)
        if tags.contains("*") { return .any }
        var revisions = Set<UInt64>()
        for tag in tags where tag.count >= 3 && tag.first == "\"" && tag.last == "\"" {
            let inner = tag.dropFirst().dropLast()
            let parts = inner.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            let digits = parts[0]
            if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy(\.isASCIIDigit) { continue }
            if let revision = UInt64(digits), String(revision) == digits { revisions.insert(revision) }
        }
        if revisions.count == 1, let only = revisions.first { return .revision(only) }
        return revisions.isEmpty ? RevisionMatch.none : .oneOf(revisions)
    }

    /// Whether `If-None-Match` matches the ETag ``of(_:heardAt:)`` (weak comparison, `*`
    /// matches anything).
    static func ifNoneMatch(_ header: String?, matches revision: UInt64, heardAt: Timestamp? = nil) -> Bool {
        guard let header else { return false }
        let current = of(revision, heardAt: heardAt)
        for element in HeaderValue.list(header) {
            var tag = element
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == current[...] { return true }
        }
        return false
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
