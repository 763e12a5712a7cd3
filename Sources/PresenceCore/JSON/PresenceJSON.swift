/// The JSON forms of a presence record: the API body (with `revision`) and the KV value
/// (without it: the revision belongs to the KV entry).
///
/// Encoding is hand-written because it is on every write and its output is cached for every
/// read: fixed field order, compact, no allocation beyond the output. Decoding uses the
/// strict parser: it runs for every watcher event, where `JSONDecoder` was the largest cost.
public enum PresenceJSON {
    /// The API body of a record, e.g. `{"user_id":"alice",…,"revision":42}`.
    public static func encodeResponse(_ record: PresenceRecord) -> [UInt8] {
        responseObject(record).finish()
    }

    /// ``encodeResponse(_:)`` as a writer not yet closed (to nest it in another object).
    static func responseObject(_ record: PresenceRecord) -> JSONObjectWriter {
        var object = fields(record, reservingExtra: 48)  // room for the revision and session count
        addResponseEnd(revision: record.revision, sessions: record.sessions, to: &object)
        return object
    }

    /// ``encodeResponse(_:)`` of a record, from its KV value: `canonicalValue` must be exactly
    /// ``encodeValue(_:)`` of a record whose fields are the response's (the body is the
    /// value with the revision and the session count added).
    static func encodeResponse(canonicalValue: [UInt8], revision: UInt64, sessions: Int) -> [UInt8] {
        // Exactly its size: a replica holds one per user for as long as it runs.
        let suffixes = #","revision":"#.utf8.count + #","sessions":"#.utf8.count + 1
        var object = JSONObjectWriter(
            continuing: canonicalValue.dropLast(),  // its closing brace
            reservingCapacity: canonicalValue.count - 1 + suffixes + digits(revision) + digits(sessions))
        addResponseEnd(revision: revision, sessions: sessions, to: &object)
        return object.finish()
    }

    /// What the API body adds after the value's fields: the revision and the session count.
    private static func addResponseEnd(revision: UInt64, sessions: Int, to object: inout JSONObjectWriter) {
        object.add("revision", revision)
        object.add("sessions", sessions)
    }

    /// How many characters `value` takes in decimal.
    private static func digits(_ value: some BinaryInteger) -> Int {
        String(value).utf8.count
    }

    /// The KV value of a record in the single-record form: the API body without `revision`
    /// and `sessions`.
    public static func encodeValue(_ record: PresenceRecord) -> [UInt8] {
        fields(record, reservingExtra: 1).finish()
    }

    /// Decodes a KV value stored under `revision`.
    /// - Returns: `nil` when the bytes are not a presence record.
    public static func decodeValue(_ bytes: [UInt8], revision: UInt64) -> PresenceRecord? {
        CanonicalPresenceJSON.decode(bytes, revision: revision, fast: { $0 }, strict: decodeValueStrictly)
    }

    /// ``decodeValue(_:revision:)`` by the general reader only (the fast path's reference).
    static func decodeValueStrictly(_ bytes: [UInt8], revision: UInt64) -> PresenceRecord? {
        guard let fields = JSONValue.object(from: bytes) else { return nil }
        return record(from: fields, revision: revision)
    }

    /// The record in `fields`: `user_id`, `status`, `last_seen`, `updated_at` and `ttl`
    /// (0 to 2³¹−1 seconds, so expiry arithmetic cannot overflow) required; `message` and `node_id` may be absent or null; other fields are ignored.
    static func record(from fields: [String: JSONValue], revision: UInt64) -> PresenceRecord? {
        guard case .string(let userID)? = fields["user_id"], let user = try? UserID(validating: userID),
            case .string(let rawStatus)? = fields["status"], let status = PresenceStatus(rawValue: rawStatus),
            case .string(let rawLastSeen)? = fields["last_seen"], let lastSeen = Timestamp(rfc3339: rawLastSeen),
            case .string(let rawUpdatedAt)? = fields["updated_at"], let updatedAt = Timestamp(rfc3339: rawUpdatedAt),
            let ttl = seconds(fields["ttl"]),
            let message = optionalString(fields["message"]), let nodeID = optionalString(fields["node_id"])
        else { return nil }
        return PresenceRecord(
            userID: user, status: status, message: message, lastSeen: lastSeen, updatedAt: updatedAt, nodeID: nodeID,
            ttl: ttl, revision: revision)
    }

    /// A TTL field: 0 to 2³¹−1 seconds, so expiry arithmetic cannot overflow; nil otherwise.
    static func seconds(_ value: JSONValue?) -> Int? {
        guard case .integer(let ttl)? = value, (0...Int(Int32.max)).contains(ttl) else { return nil }
        return ttl
    }

    /// A string field's text, `""` when absent or null, nil when it is something else.
    static func optionalString(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        default: return nil
        }
    }

    /// The fields both forms share, in a writer with room for `extra` more bytes: a replica
    /// keeps one body per user, so growing past its capacity (which doubles it) would cost
    /// memory for as long as the node runs.
    private static func fields(_ record: PresenceRecord, reservingExtra extra: Int) -> JSONObjectWriter {
        // The keys, quotes, status and two timestamps take at most 146 bytes, the ttl at most 10;
        // the strings as they are, unless escaped.
        var object = JSONObjectWriter(
            reservingCapacity: 146 + record.userID.rawValue.utf8.count + record.message.utf8.count
                + record.nodeID.utf8.count + 10 + extra)
        object.add("user_id", record.userID.rawValue)
        object.add("status", record.status.rawValue)
        object.add("message", record.message)
        object.add("last_seen", record.lastSeen)
        object.add("updated_at", record.updatedAt)
        object.add("node_id", record.nodeID)
        object.add("ttl", record.ttl)
        return object
    }
}
