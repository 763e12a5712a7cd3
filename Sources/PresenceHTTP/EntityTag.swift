import PresenceCore

/// `ETag`, `If-Match` and `If-None-Match` handling: a record's strong ETag is its revision
/// in double quotes.
enum EntityTag {
    /// The ETag of a revision: `"42"`.
    static func of(_ revision: UInt64) -> String { "\"\(revision)\"" }

    /// Parses `If-Match`: `*`, or one strong tag `"42"`. Weak tags and other forms never match.
    static func parseIfMatch(_ header: String?) -> RevisionMatch? {
        guard let header else { return nil }
        let tags = header.split(separator: ",").map { $0.trimmingSpaces }
        if tags.contains("*") { return .any }
        for tag in tags where tag.count >= 3 && tag.first == "\"" && tag.last == "\"" {
            if let revision = UInt64(tag.dropFirst().dropLast()) { return .revision(revision) }
        }
        return RevisionMatch.none
    }

    /// Whether `If-None-Match` matches a revision (weak comparison, `*` matches anything).
    static func ifNoneMatch(_ header: String?, matches revision: UInt64) -> Bool {
        guard let header else { return false }
        let current = of(revision)
        for raw in header.split(separator: ",") {
            var tag = raw.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == current[...] { return true }
        }
        return false
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
