/// The one rule for when a presence stops counting (SPEC §2): a status other than `offline`
/// expires strictly after `updated_at + ttl`; `offline` never expires.
///
/// ``PresenceRecord``, ``StoredPresence`` and the replica's expiry schedule all ask this type,
/// so the boundary cannot drift between a read, a write and the sweeper.
public enum ExpiryRule {
    /// The moment a record written at `updatedAt` with `ttl` seconds stops counting.
    @inlinable
    public static func expiresAt(updatedAt: Timestamp, ttl: Int) -> Timestamp {
        updatedAt.adding(seconds: ttl)
    }

    /// Whether a record with `status` that stops counting at `expiresAt` has expired at `now`.
    @inlinable
    public static func isExpired(status: PresenceStatus, expiresAt: Timestamp, at now: Timestamp) -> Bool {
        status != .offline && now > expiresAt
    }

    /// Whether an expiry scheduled at `expiresAtMillis` is due at `nowMillis` (the same strict
    /// boundary as ``isExpired(status:expiresAt:at:)``, in milliseconds for the schedule's heap).
    @inlinable
    public static func isDue(expiresAtMillis: Int64, nowMillis: Int64) -> Bool {
        nowMillis > expiresAtMillis
    }
}

extension ExpiryRule {
    /// The first millisecond at which a status expiring at `expiresAt` reads expired.
    @inlinable
    public static func firstExpiredMoment(of expiresAt: Timestamp) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: expiresAt.millisecondsSinceEpoch + 1)
    }

    /// Whether a message that stops counting at `expiresAt` reads `""` at `now`: from that
    /// moment on (SPEC §2, `message_expires_at`).
    @inlinable
    public static func messageHasExpired(_ expiresAt: Timestamp?, at now: Timestamp) -> Bool {
        guard let expiresAt else { return false }
        return now >= expiresAt
    }
}
