/// What a reader of the audit trail asks for: one user's entries or everyone's, from a time on.
public struct AuditQuery: Sendable, Equatable {
    /// Whose entries; nil for every user's.
    public var user: UserID?
    /// The earliest entry time wanted; nil for the oldest kept.
    public var since: Timestamp?
    /// At most this many entries (oldest first).
    public var limit: Int

    /// The largest ``limit`` served at once.
    public static let maxLimit = 1000

    public init(user: UserID?, since: Timestamp?, limit: Int) {
        self.user = user
        self.since = since
        self.limit = limit
    }
}

/// Entries of the audit trail, oldest first, each one JSON object as ``AuditEntry/encoded()``
/// wrote it, and whether more matched than the query's limit.
public struct AuditPage: Sendable, Equatable {
    public var entries: [[UInt8]]
    public var more: Bool

    public init(entries: [[UInt8]], more: Bool) {
        self.entries = entries
        self.more = more
    }

    /// The page as the API serves it: `{"entries":[…],"more":false}`.
    public func encoded() -> [UInt8] {
        var out = Array("{\"entries\":[".utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: entry)
        }
        out.append(contentsOf: "],\"more\":\(more)}".utf8)
        return out
    }
}
