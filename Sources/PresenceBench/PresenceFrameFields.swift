import NIOCore
import PresenceCore

/// The fields the bench reads off a `presence` frame's bytes without decoding its JSON (the
/// server writes a record's fields in a fixed order: `user_id`, `status`, `message`, …).
enum PresenceFrameFields {
    private static let messageKey = Array(#""message":"bench "#.utf8)
    private static let updatedKey = Array(#""updated_at":""#.utf8)
    private static let userKey = Array(#""user_id":""#.utf8)
    private static let statusKey = Array(#""status":""#.utf8)
    private static let codeKey = Array(#""code":""#.utf8)
    private static let typeKey = Array(#""type":""#.utf8)

    /// The first letter of a server message's `type` (the first `"type":"` in it: the server
    /// writes `id`, then `type`, then the rest).
    static func typeInitial(_ payload: ByteBuffer) -> UInt8? {
        guard let offset = find(typeKey, in: payload) else { return nil }
        return payload.getInteger(at: payload.readerIndex + offset, as: UInt8.self)
    }

    /// The change a fan-out message names: `bench <seq> <due µs since the epoch>`.
    static func benchChange(_ payload: ByteBuffer) -> (seq: Int, dueMicros: Int64)? {
        guard var offset = find(messageKey, in: payload), let seq = number(payload, &offset),
            payload.getInteger(at: payload.readerIndex + offset, as: UInt8.self) == UInt8(ascii: " ")
        else { return nil }
        offset += 1
        guard let due = number(payload, &offset) else { return nil }
        return (seq, Int64(due))
    }

    /// The record's `updated_at`, milliseconds since the epoch.
    static func updatedAtMillis(_ payload: ByteBuffer) -> Int64? {
        guard let offset = find(updatedKey, in: payload),
            let text = payload.getString(at: payload.readerIndex + offset, length: 24)
        else { return nil }
        return Timestamp(rfc3339: text)?.millisecondsSinceEpoch
    }

    /// The number of user `<prefix><number>`; nil for another user.
    static func userNumber(_ payload: ByteBuffer, prefix: [UInt8]) -> Int? {
        guard var offset = find(userKey, in: payload),
            payload.getBytes(at: payload.readerIndex + offset, length: prefix.count) == prefix
        else { return nil }
        offset += prefix.count
        guard let value = number(payload, &offset),
            payload.getInteger(at: payload.readerIndex + offset, as: UInt8.self) == UInt8(ascii: "\"")
        else { return nil }
        return value
    }

    /// The (combined, public) status.
    static func status(_ payload: ByteBuffer) -> PresenceStatus? {
        string(after: statusKey, in: payload).flatMap(PresenceStatus.init(rawValue:))
    }

    /// An error reply's `code`.
    static func errorCode(_ payload: ByteBuffer) -> String {
        string(after: codeKey, in: payload) ?? "unknown"
    }

    /// The JSON string (without escapes, at most 40 bytes) after `key`.
    private static func string(after key: [UInt8], in payload: ByteBuffer) -> String? {
        guard let offset = find(key, in: payload),
            let bytes = payload.getBytes(
                at: payload.readerIndex + offset, length: min(40, payload.readableBytes - offset)),
            let end = bytes.firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The offset (from the reader index) just past the first `key` in `payload`.
    private static func find(_ key: [UInt8], in payload: ByteBuffer) -> Int? {
        payload.withUnsafeReadableBytes { bytes -> Int? in
            guard let first = key.first, bytes.count >= key.count else { return nil }
            var index = 0
            let last = bytes.count - key.count
            while index <= last {
                if bytes[index] == first {
                    var matched = 1
                    while matched < key.count, bytes[index + matched] == key[matched] { matched += 1 }
                    if matched == key.count { return index + key.count }
                }
                index += 1
            }
            return nil
        }
    }

    /// The decimal number at `offset` (moved past it); nil when there is no digit.
    private static func number(_ payload: ByteBuffer, _ offset: inout Int) -> Int? {
        var value = 0
        let start = offset
        while offset - start < 18, let byte = payload.getInteger(at: payload.readerIndex + offset, as: UInt8.self),
            byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9")
        {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            offset += 1
        }
        return offset > start ? value : nil
    }
}
