/// A fast reader for exactly the bytes ``PresenceJSON``'s encoders write for a record in the
/// single-record form: the KV value (`encodeValue`) and the API body (`encodeResponse`).
///
/// A node decodes every record it loads (a new leaf reads a million at start) and the body of
/// every record it writes, and almost all of them are these bytes. The general reader
/// (``StrictJSON``) builds a dictionary of every field first; this one walks the known
/// layout once. Anything else — another key order, white space, an escape sequence in a
/// string, a field more or less — gives nil, and the caller falls back to ``StrictJSON``: the
/// two agree on every input this one accepts, so the fast path changes no answer.
enum CanonicalPresenceJSON {
    /// The record these bytes encode, nil when they are not in the encoders' exact layout.
    /// - Parameter body: also take the API body's layout; false: only the KV value's.
    static func record(from bytes: [UInt8], revision: UInt64, body: Bool = true) -> PresenceRecord? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard reader.skip(#"{"user_id":"#), let rawUser = reader.string(),
                reader.skip(#","status":"#), let rawStatus = reader.string(),
                reader.skip(#","message":"#), let message = reader.string(),
                reader.skip(#","last_seen":"#), let rawLastSeen = reader.string(),
                reader.skip(#","updated_at":"#), let rawUpdatedAt = reader.string(),
                reader.skip(#","node_id":"#), let nodeID = reader.string(),
                reader.skip(#","ttl":"#), let ttl = reader.integer(), ttl <= Int(Int32.max)
            else { return nil }
            // The value ends here; the body adds the revision and the session count (which
            // the general reader ignores too: the revision is the caller's).
            if !reader.skip("}") {
                guard body, reader.skip(#","revision":"#), reader.integer() != nil, reader.skip(#","sessions":"#),
                    reader.integer() != nil, reader.skip("}")
                else { return nil }
            }
            guard reader.atEnd, let user = try? UserID(validating: rawUser),
                let status = PresenceStatus(rawValue: rawStatus),
                let lastSeen = Timestamp(rfc3339: rawLastSeen), let updatedAt = Timestamp(rfc3339: rawUpdatedAt)
            else { return nil }
            return PresenceRecord(
                userID: user, status: status, message: message, lastSeen: lastSeen, updatedAt: updatedAt,
                nodeID: nodeID, ttl: ttl, revision: revision)
        }
    }

    /// The one way a presence value (or API body) is read: this reader first, and only for
    /// bytes it does not take, the strict reader.
    /// - Parameters:
    ///   - body: also take the API body's layout in the fast reader; false: only the KV value's.
    ///   - fast: what to make of a record the fast reader read.
    ///   - strict: the strict reader (``StrictJSON`` and the fields' rules) for anything else.
    /// - Returns: nil when neither reads the bytes.
    static func decode<Decoded>(
        _ bytes: [UInt8], revision: UInt64, body: Bool = true, fast: (PresenceRecord) -> Decoded,
        strict: ([UInt8], UInt64) -> Decoded?
    ) -> Decoded? {
        if let record = record(from: bytes, revision: revision, body: body) { return fast(record) }
        return strict(bytes, revision)
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var atEnd: Bool { position == bytes.count }

        /// Consumes `literal` if the bytes continue with it.
        mutating func skip(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - position >= count else { return false }
            let matches = literal.withUTF8Buffer { expected in
                for offset in 0..<count where bytes[position + offset] != expected[offset] { return false }
                return true
            }
            if matches { position += count }
            return matches
        }

        /// A string without escapes or control characters (DEL included: the encoder escapes
        /// it, so a raw one would not be copied into a body as is), in valid UTF-8.
        mutating func string() -> String? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            let start = position + 1
            var end = start
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            position = end + 1
            return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }

        /// A non-negative integer of at most 18 digits, without a leading zero.
        mutating func integer() -> Int? {
            let start = position
            var value = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                position += 1
                if position - start > 18 { return nil }
            }
            let digits = position - start
            guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            return value
        }
    }
}
