/// A record as a replica keeps it: its encoded API body, plus the few fields that reads and
/// the replica's bookkeeping need without decoding.
///
/// The body is the record: every other field is read back from it on demand (``record``),
/// which writes and expired reads do, while a plain read only copies the bytes. Keeping the
/// record's strings beside the body would cost a fifth more memory per user.
public struct StoredPresence: Sendable, Equatable {
    /// `PresenceJSON.encodeResponse(record)`.
    public let responseBody: [UInt8]
    /// Whose record.
    public let user: UserID
    /// The KV revision.
    public let revision: UInt64
    /// Server time of the last write or heartbeat.
    public let updatedAt: Timestamp
    /// The status as written.
    public let status: PresenceStatus
    private let ttlSeconds: Int32

    /// Wraps a record, encoding its body once.
    public init(_ record: PresenceRecord) {
        self.responseBody = PresenceJSON.encodeResponse(record)
        self.user = record.userID
        self.revision = record.revision
        self.updatedAt = record.updatedAt
        self.status = record.status
        self.ttlSeconds = Int32(clamping: record.ttl)
    }

    /// The record, decoded from the body (with the revision held here).
    public var record: PresenceRecord {
        guard let record = PresenceJSON.decodeValue(responseBody, revision: revision) else {
            // The body was encoded from a record by `init`, and the encoder's output always decodes.
            preconditionFailure("a stored presence body does not decode")
        }
        return record
    }

    /// Seconds after ``updatedAt`` at which a non-offline status expires.
    public var ttl: Int { Int(ttlSeconds) }

    /// When a non-offline status stops counting.
    public var expiresAt: Timestamp { ExpiryRule.expiresAt(updatedAt: updatedAt, ttl: ttl) }

    /// Whether the record reads as expired at `now` (``ExpiryRule``).
    public func isExpired(at now: Timestamp) -> Bool {
        ExpiryRule.isExpired(status: status, expiresAt: expiresAt, at: now)
    }

    /// The body a read at `now` returns: the cached bytes, or for an expired record the
    /// freshly encoded offline form.
    public func body(at now: Timestamp) -> [UInt8] {
        isExpired(at: now) ? PresenceJSON.encodeResponse(record.effective(at: now)) : responseBody
    }

    /// Approximate bytes this entry keeps in memory, for the replica's cost bound: the
    /// replica's slot and index entry, the body's allocation, and a long id's own storage.
    var cost: Int {
        let idBytes = user.rawValue.utf8.count
        return 112 + responseBody.count + (idBytes > 15 ? idBytes + 32 : 0)
    }
}
