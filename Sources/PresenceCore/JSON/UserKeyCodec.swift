/// The injective, reversible mapping between user ids and NATS KV keys.
///
/// NATS KV keys allow only `A-Z a-z 0-9 - _ / = .` and `.` separates subject tokens, so a
/// user id cannot be used as it is (`@` and `:` are illegal, `a..b` would be an empty token).
/// The encoding keeps `A-Z a-z 0-9 - _` as they are and writes every other UTF-8 byte,
/// including `=` itself, as `=` followed by two upper-case hex digits. `=` only ever starts
/// an escape, so decoding is unambiguous and the mapping is injective.
public enum UserKeyCodec {
    /// The KV key for a user id.
    public static func key(for user: UserID) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(user.rawValue.utf8.count)
        for byte in user.rawValue.utf8 {
            if isPlain(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "="))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The user id a KV key stands for, or `nil` when the key is not one we wrote.
    public static func userID(forKey key: String) -> UserID? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count)
        var iterator = key.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "=") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                let decoded = high << 4 | low
                // A byte that had a plain form must have been written plain.
                guard !isPlain(decoded) else { return nil }
                bytes.append(decoded)
            } else if isPlain(byte) {
                bytes.append(byte)
            } else {
                return nil
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return try? UserID(validating: text)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
