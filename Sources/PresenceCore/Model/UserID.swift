/// A validated user id: 1–128 bytes of UTF-8 made of letters, digits and `. _ - @ + : = |`
/// (`|` as in Auth0 subjects such as `auth0|123`).
///
/// Letters and digits are Unicode letters (general category L*) and decimal digits (Nd),
/// so `josé` and `用户1` are valid ids; spaces, slashes, quotes and control characters are not.
///
/// Ids are compared by their UTF-8 bytes, not by Swift's canonical string equivalence: the
/// KV key is made from the bytes, so `"\u{00C5}"` and `"\u{212B}"` are two different users.
public struct UserID: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The id as the client wrote it.
    public let rawValue: String

    /// The longest id in UTF-8 bytes.
    public static let maxBytes = 128

    /// Validates a user id.
    /// - Throws: ``PresenceError`` `invalid_user_id` when the id is empty, too long or has
    ///   a character outside the allowed set.
    public init(validating raw: String) throws(PresenceError) {
        let byteCount = raw.utf8.count
        guard byteCount >= 1 else {
            throw PresenceError(.invalidUserID, "user id must not be empty")
        }
        guard byteCount <= Self.maxBytes else {
            throw PresenceError(.invalidUserID, "user id must be at most \(Self.maxBytes) bytes of UTF-8")
        }
        // Most ids are ASCII: check the bytes against a table; only others go scalar by scalar.
        let asciiOnly = raw.utf8.allSatisfy { $0 < 0x80 }
        let allowed = asciiOnly ? raw.utf8.allSatisfy { Self.asciiAllowed[Int($0)] } : raw.unicodeScalars.allSatisfy(Self.isAllowed)
        guard allowed else {
            throw PresenceError(.invalidUserID, "user id may contain only letters, digits and . _ - @ + : = |")
        }
        self.rawValue = raw
    }

    private static let asciiAllowed: [Bool] = (0..<128).map { isAllowed(Unicode.Scalar(UInt8($0))) }

    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "@", "+", ":", "=", "|":
            return true
        default:
            guard scalar.value > 0x7F else { return false }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .decimalNumber:
                return true
            default:
                return false
            }
        }
    }

    public var description: String { rawValue }

    /// Whether `text` is exactly this id, byte for byte.
    public func isIdentical(to text: String) -> Bool {
        rawValue.utf8.elementsEqual(text.utf8)
    }

    public static func == (lhs: UserID, rhs: UserID) -> Bool {
        lhs.rawValue.utf8.elementsEqual(rhs.rawValue.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var copy = rawValue
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    public static func < (lhs: UserID, rhs: UserID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}
