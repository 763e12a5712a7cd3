/// A validated session id: 1–64 bytes of `A-Z a-z 0-9 . _ - :` (SPEC §2, Sessions).
public struct SessionID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id as the client wrote it.
    public let rawValue: String

    /// The longest id in bytes.
    public static let maxBytes = 64

    /// The session the single-record routes act on.
    public static let defaultSession = SessionID(trusted: "default")

    /// Validates a session id.
    /// - Throws: ``PresenceError`` `invalid_session_id`.
    public init(validating raw: String) throws(PresenceError) {
        guard (1...Self.maxBytes).contains(raw.utf8.count) else {
            throw PresenceError(.invalidSessionID, "session id must be 1 to \(Self.maxBytes) bytes")
        }
        guard raw.utf8.allSatisfy(Self.isAllowed) else {
            throw PresenceError(.invalidSessionID, "session id may contain only A-Z a-z 0-9 . _ - :")
        }
        self.rawValue = raw
    }

    private init(trusted raw: String) { self.rawValue = raw }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
            UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    public var description: String { rawValue }

    public static func < (lhs: SessionID, rhs: SessionID) -> Bool { lhs.rawValue < rhs.rawValue }
}
