/// The one place that compares a deadline with now (SPEC §2).
///
/// - A status other than `offline` expires strictly after `updated_at + ttl`; `offline`
///   never expires (``isExpired(status:expiresAt:at:)``).
/// - A message stops counting from `message_expires_at` on, and a moment from which a body
///   reads differently (``firstExpiredMoment(of:)``) or a record is dropped
///   (``retainedUntil(lastWritten:retentionSeconds:)``) is due from that moment on
///   (``hasArrived(_:at:)``).
///
/// Sessions, stored records, the write rules and the replica's expiry schedule all ask this
/// type, so the boundary cannot drift between a read, a write and the sweeper.
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

    /// The first millisecond at which a status expiring at `expiresAt` reads expired.
    @inlinable
    public static func firstExpiredMoment(of expiresAt: Timestamp) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: expiresAt.millisecondsSinceEpoch + 1)
    }

    /// Whether `moment` (a ``firstExpiredMoment(of:)``, a message's expiry, a
    /// ``retainedUntil(lastWritten:retentionSeconds:)``) has come by `now`: from that
    /// millisecond on.
    @inlinable
    public static func hasArrived(_ moment: Timestamp, at now: Timestamp) -> Bool {
        now >= moment
    }

    /// Whether a message that stops counting at `expiresAt` reads `""` at `now`: from that
    /// moment on (SPEC §2, `message_expires_at`).
    @inlinable
    public static func messageHasExpired(_ expiresAt: Timestamp?, at now: Timestamp) -> Bool {
        guard let expiresAt else { return false }
        return hasArrived(expiresAt, at: now)
    }

    /// The moment a record last written at `lastWritten` is dropped when `presence.retention`
    /// is `retentionSeconds` (and it has no live session then): due from that moment on
    /// (``hasArrived(_:at:)``).
    @inlinable
    public static func retainedUntil(lastWritten: Timestamp, retentionSeconds: Int) -> Timestamp {
        lastWritten.adding(seconds: retentionSeconds)
    }
}
