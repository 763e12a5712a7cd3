import PresenceCore

/// `ETag`, `If-Match` and `If-None-Match` handling: a record's strong ETag is its revision
/// in double quotes. The one place where an ETag is written or compared.
enum EntityTag {
    /// The ETag of a revision: `"42"`.
    static func of(_ revision: UInt64) -> String { "\"\(revision)\"" }

    /// The ETag public readers see of a stored record (frozen while the user is invisible).
    static func of(_ stored: StoredPresence) -> String { of(stored.publicRevision) }

    /// Parses `If-Match`: `*`, or a list of strong tags such as `"42"`. Only tags exactly as
    /// this service writes them can match (strong comparison): weak tags, `"042"` or `"+42"`
    /// never do.
    static func parseIfMatch(_ header: String?) -> RevisionMatch? {
        guard let header else { return nil }
        let tags = HeaderValue.list(header)
        if tags.contains("*") { return .any }
        var revisions = Set<UInt64>()
        for tag in tags where tag.count >= 3 && tag.first == "\"" && tag.last == "\"" {
            let digits = tag.dropFirst().dropLast()
            if let revision = UInt64(digits), String(revision) == digits { revisions.insert(revision) }
        }
        if revisions.count == 1, let only = revisions.first { return .revision(only) }
        return revisions.isEmpty ? RevisionMatch.none : .oneOf(revisions)
    }

    /// Whether `If-None-Match` matches a revision (weak comparison, `*` matches anything).
    static func ifNoneMatch(_ header: String?, matches revision: UInt64) -> Bool {
        guard let header else { return false }
        let current = of(revision)
        for element in HeaderValue.list(header) {
            var tag = element
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == current[...] { return true }
        }
        return false
    }
}
