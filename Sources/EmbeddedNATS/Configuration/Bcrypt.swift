/// bcrypt (`$2b$`), for the passwords the generated nats-server configuration holds: nats-server
/// takes a bcrypt hash wherever it takes a password and compares what a client presents with
/// it, so the file never holds one in plain text, and nats-server does not warn "Plaintext
/// passwords detected" about a file its user never wrote.
///
/// The passwords the node generates are 256 random bits, for which the cost adds nothing:
/// ``defaultCost`` is bcrypt's least, so a hash takes a millisecond and every connection's
/// check at nats-server too. Passwords longer than 72 bytes are cut there, as Go's bcrypt
/// (nats-server's) cuts them.
enum Bcrypt {
    /// The cost (log₂ of the rounds) of ``hash(_:cost:)``.
    static let defaultCost = 4

    /// `$2b$<cost>$<22 characters of salt><31 characters of hash>` for `password`, with a random salt.
    static func hash(_ password: String, cost: Int = defaultCost) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return hash(password, cost: cost, salt: salt)
    }

    /// The hash of `password` with this `salt` (16 bytes); `cost` is 4…31.
    static func hash(_ password: String, cost: Int, salt: [UInt8]) -> String {
        precondition(salt.count == 16 && (4...31).contains(cost), "bcrypt takes 16 bytes of salt and a cost of 4…31")
        var key = Array(password.utf8) + [0]
        if key.count > 72 { key.removeLast(key.count - 72) }
        var state = Blowfish()
        state.expand(key: key, salt: salt)
        for _ in 0..<(1 << cost) {
            state.expand(key: key, salt: nil)
            state.expand(key: salt, salt: nil)
        }
        var text: [UInt32] = [0x4f72_7068, 0x6561_6e42, 0x6568_6f6c, 0x6465_7253, 0x6372_7944, 0x6f75_6274]  // "OrpheanBeholderScryDoubt"
        for _ in 0..<64 {
            for block in stride(from: 0, to: 6, by: 2) {
                (text[block], text[block + 1]) = state.encrypt(text[block], text[block + 1])
            }
        }
        let bytes = text.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * $0)) } }
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        return "$2b$\(costText)$" + encode(salt) + encode(Array(bytes.prefix(23)))
    }

    /// Whether `hash` (as ``hash(_:cost:)`` writes it) is the hash of `password`.
    static func verify(_ password: String, hash: String) -> Bool {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, ["2a", "2b", "2y"].contains(parts[1]), let cost = Int(parts[2]),
            (4...31).contains(cost), parts[3].count == 53, let salt = decode(parts[3].prefix(22), count: 16)
        else { return false }
        let again = Self.hash(password, cost: cost, salt: salt)
        return again.utf8.dropFirst(4).elementsEqual(hash.utf8.dropFirst(4))
    }

    private static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// bcrypt's base 64: its own alphabet, no padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let first = bytes[index]
            out.append(alphabet[Int(first >> 2)])
            var carry = (first & 0x03) << 4
            index += 1
            guard index < bytes.count else {
                out.append(alphabet[Int(carry)])
                break
            }
            let second = bytes[index]
            out.append(alphabet[Int(carry | second >> 4)])
            carry = (second & 0x0f) << 2
            index += 1
            guard index < bytes.count else {
                out.append(alphabet[Int(carry)])
                break
            }
            let third = bytes[index]
            out.append(alphabet[Int(carry | third >> 6)])
            out.append(alphabet[Int(third & 0x3f)])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first `count` bytes that `text` encodes; nil for a character outside the alphabet.
    static func decode(_ text: Substring, count: Int) -> [UInt8]? {
        var bits: UInt32 = 0
        var held = 0
        var out: [UInt8] = []
        for character in text.utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            bits = bits << 6 | UInt32(value)
            held += 6
            if held >= 8 {
                held -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(held)))
            }
        }
        return out.count >= count ? Array(out.prefix(count)) : nil
    }
}
