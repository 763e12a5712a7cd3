/// A record together with its encoded API body, so a read does no encoding work.
public struct StoredPresence: Sendable, Equatable {
    /// The record as stored.
    public let record: PresenceRecord
    /// `PresenceJSON.encodeResponse(record)`.
    public let responseBody: [UInt8]
    /// The strong ETag of the record: its revision in double quotes.
    public let entityTag: String

    /// Wraps a record and encodes its body and ETag once.
    public init(_ record: PresenceRecord) {
        self.record = record
        self.responseBody = PresenceJSON.encodeResponse(record)
        self.entityTag = Self.entityTag(of: record.revision)
    }

    /// The strong ETag of a revision: `"42"`.
    public static func entityTag(of revision: UInt64) -> String { "\"\(revision)\"" }

    /// The body a read at `now` returns: the cached bytes, or for an expired record the
    /// freshly encoded offline form.
    public func body(at now: Timestamp) -> [UInt8] {
        record.isExpired(at: now) ? PresenceJSON.encodeResponse(record.effective(at: now)) : responseBody
    }

    /// Approximate bytes this entry keeps in memory, for the replica's cost bound.
    var cost: Int {
        // Struct and dictionary slot overhead, the strings that are not inline, and the body.
        176 + record.userID.rawValue.utf8.count + record.message.utf8.count + record.nodeID.utf8.count
            + responseBody.count
    }
}
