/// The input limits of the presence API, in one place.
public enum PresenceLimits {
    /// The longest custom message, in Unicode scalars.
    public static let maxMessageScalars = 256
    /// The shortest allowed TTL, in seconds.
    public static let minTTL = 10
    /// The longest allowed TTL, in seconds.
    public static let maxTTL = 86_400
    /// How far ahead `message_expires_at` may be, in seconds (30 days).
    public static let maxMessageLifetime = 30 * 86_400
    /// The longest device label, in Unicode scalars.
    public static let maxDeviceScalars = 32
    /// Ids in `GET /presence?users=`.
    public static let maxUsersPerQuery = 100
    /// Ids in `POST /presence/batch`.
    public static let maxUsersPerBatch = 1000
    /// Ids in `GET /presence/stream?users=`.
    public static let maxUsersPerStream = 1000
    /// Bytes in a PUT body.
    public static let maxWriteBodyBytes = 4 * 1024
    /// Bytes in a batch body.
    public static let maxBatchBodyBytes = 64 * 1024

    /// Validates a custom message: at most 256 Unicode scalars, no control characters
    /// (C0, DEL, C1).
    /// - Throws: ``PresenceError`` `invalid_message`.
    public static func validateMessage(_ message: String) throws(PresenceError) {
        var count = 0
        for scalar in message.unicodeScalars {
            count += 1
            if count > maxMessageScalars {
                throw PresenceError(.invalidMessage, "message must be at most \(maxMessageScalars) characters")
            }
            if isControl(scalar) {
                throw PresenceError(.invalidMessage, "message must not contain control characters")
            }
        }
    }

    /// Validates a session's device label: at most 32 Unicode scalars, no control characters.
    /// - Throws: ``PresenceError`` `bad_request`.
    public static func validateDevice(_ device: String) throws(PresenceError) {
        guard device.unicodeScalars.count <= maxDeviceScalars, !device.unicodeScalars.contains(where: isControl) else {
            throw PresenceError(
                .badRequest, "device must be at most \(maxDeviceScalars) characters without control characters")
        }
    }

    /// C0, DEL and C1.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Validates a TTL in seconds: an integer in 10…86400.
    /// - Throws: ``PresenceError`` `invalid_ttl`.
    public static func validateTTL(_ ttl: Int) throws(PresenceError) {
        guard (minTTL...maxTTL).contains(ttl) else {
            throw PresenceError(.invalidTTL, "ttl must be an integer number of seconds from \(minTTL) to \(maxTTL)")
        }
    }
}
