/// The JSON forms of a presence record: the API body (with `revision`) and the KV value
/// (without it: the revision belongs to the KV entry).
///
/// Encoding is hand-written because it is on every write and its output is cached for every
/// read: fixed field order, compact, no allocation beyond the output. Decoding uses the
/// strict parser: it runs for every watcher event, where `JSONDecoder` was the largest cost.
public enum PresenceJSON {
    /// The API body of a record, e.g. `{"user_id":"alice",…,"revision":42}`.
    public static func encodeResponse(_ record: PresenceRecord) -> [UInt8] {
        var out = encodeFields(record, reservingExtra: 48)  // room for the revision and session count
        appendResponseEnd(revision: String(record.revision).utf8, sessions: String(record.sessions).utf8, to: &out)
        return out
    }

    /// ``encodeResponse(_:)`` of a record, from its KV value: `canonicalValue` must be exactly
    /// ``encodeValue(_:)`` of a record whose fields are the response's (the body is the
    /// value with the revision and the session count added).
    static func encodeResponse(canonicalValue: [UInt8], revision: UInt64, sessions: Int) -> [UInt8] {
        let revisionText = String(revision).utf8
        let sessionsText = String(sessions).utf8
        let suffixes = #","revision":"#.utf8.count + #","sessions":"#.utf8.count
        var out = [UInt8]()
        // Exactly its size: a replica holds one per user for as long as it runs.
        out.reserveCapacity(canonicalValue.count + suffixes + revisionText.count + sessionsText.count)
        out.append(contentsOf: canonicalValue.dropLast())  // its closing brace
        appendResponseEnd(revision: revisionText, sessions: sessionsText, to: &out)
        return out
    }

    /// What the API body adds after the value's fields: the revision, the session count, the closing brace.
    private static func appendResponseEnd(revision: String.UTF8View, sessions: String.UTF8View, to out: inout [UInt8]) {
        out.append(contentsOf: #","revision":"#.utf8)
        out.append(contentsOf: revision)
        out.append(contentsOf: #","sessions":"#.utf8)
        out.append(contentsOf: sessions)
        out.append(UInt8(ascii: "}"))
    }

    /// The KV value of a record in the single-record form: the API body without `revision`
    /// and `sessions`.
    public static func encodeValue(_ record: PresenceRecord) -> [UInt8] {
        var out = encodeFields(record, reservingExtra: 1)
        out.append(UInt8(ascii: "}"))
        return out
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

    /// The fields both forms share, without the closing brace, in an array with room for
    /// `extra` more bytes: a replica keeps one body per user, so growing past its capacity
    /// (which doubles it) would cost memory for as long as the node runs.
    private static func encodeFields(_ record: PresenceRecord, reservingExtra extra: Int) -> [UInt8] {
        var out = [UInt8]()
        // The keys, quotes, status and two timestamps take at most 146 bytes, the ttl at most 10;
        // the strings as they are, unless escaped.
        out.reserveCapacity(
            146 + record.userID.rawValue.utf8.count + record.message.utf8.count + record.nodeID.utf8.count + 10 + extra)
        out.append(contentsOf: #"{"user_id":"#.utf8)
        JSONString.append(record.userID.rawValue, to: &out)
        out.append(contentsOf: #","status":""#.utf8)
        out.append(contentsOf: record.status.rawValue.utf8)
        out.append(contentsOf: #"","message":"#.utf8)
        JSONString.append(record.message, to: &out)
        out.append(contentsOf: #","last_seen":""#.utf8)
        out.append(contentsOf: record.lastSeen.rfc3339.utf8)
        out.append(contentsOf: #"","updated_at":""#.utf8)
        out.append(contentsOf: record.updatedAt.rfc3339.utf8)
        out.append(contentsOf: #"","node_id":"#.utf8)
        JSONString.append(record.nodeID, to: &out)
        out.append(contentsOf: #","ttl":"#.utf8)
        out.append(contentsOf: String(record.ttl).utf8)
        return out
    }
}
