/// What a reader of the audit trail asks for: one user's entries or everyone's, from a time
/// on, after where an earlier page ended.
public struct AuditQuery: Sendable, Equatable {
    /// Whose entries; nil for every user's.
    public var user: UserID?
    /// The earliest entry time wanted; nil for the oldest kept.
    public var since: Timestamp?
    /// Where the page before ended (its ``AuditPage/next``); nil to start at the first entry
    /// stored (at `since`).
    public var after: AuditCursor?
    /// At most this many entries (in stored order).
    public var limit: Int

    /// The largest ``limit`` served at once.
    public static let maxLimit = 1000

    public init(user: UserID?, since: Timestamp?, after: AuditCursor? = nil, limit: Int) {
        self.user = user
        self.since = since
        self.after = after
        self.limit = limit
    }
}

/// A place in the audit stream: an entry's message (its stream sequence) and its line in it.
/// A page ends at one, and the next page starts after it: entries are stored in batches from
/// several nodes, so their `time`s are not in stored order and cannot say where a page ended.
public struct AuditCursor: Sendable, Hashable, CustomStringConvertible {
    /// The stream sequence of the entry's message.
    public var sequence: UInt64
    /// The entry's line in that message, from 0.
    public var line: Int

    public init(sequence: UInt64, line: Int) {
        self.sequence = sequence
        self.line = line
    }

    /// `<sequence>.<line>`, as the API's `next` and `after` carry it.
    public var description: String { "\(sequence).\(line)" }

    /// The cursor `text` names (`<sequence>.<line>`, both decimal), nil when it names none.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 19 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let sequence = UInt64(parts[0]), sequence > 0, let line = Int(parts[1])
        else { return nil }
        self.init(sequence: sequence, line: line)
    }

    /// Whether the entry at `sequence`, `line` comes after this cursor.
    public func precedes(sequence other: UInt64, line otherLine: Int) -> Bool {
        other > sequence || (other == sequence && otherLine > line)
    }
}

/// Entries of the audit trail in stored order (oldest first), each one JSON object as
/// ``AuditEntry/encoded()`` wrote it; whether to ask again, and where the next page starts.
public struct AuditPage: Sendable, Equatable {
    public var entries: [[UInt8]]
    /// More entries may match: ask again with `after` = ``next``.
    public var more: Bool
    /// Where the next page starts (set when ``more``).
    public var next: AuditCursor?

    public init(entries: [[UInt8]], more: Bool, next: AuditCursor? = nil) {
        self.entries = entries
        self.more = more
        self.next = next
    }

    /// The page as the API serves it: `{"entries":[…],"more":true,"next":"1523.4"}`.
    public func encoded() -> [UInt8] {
        var out = Array("{\"entries\":[".utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: entry)
        }
        out.append(contentsOf: "],\"more\":\(more)".utf8)
        if let next { out.append(contentsOf: ",\"next\":\"\(next)\"".utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
