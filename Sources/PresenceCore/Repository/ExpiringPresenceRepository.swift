/// What the center's expiry sweeper needs from a store: its writes (``PresenceRepository``),
/// dropping a record, its clock, and every record it holds as it changes.
public protocol ExpiringPresenceRepository: PresenceRepository {
    /// Drops a record untouched for the retention period, if it is still at `revision` (a
    /// write since wins).
    /// - Returns: whether it was dropped.
    func drop(_ user: UserID, revision: UInt64) async throws(PresenceError) -> Bool

    /// The store's time (of writes and expiry).
    var now: Timestamp { get }

    /// Tells `schedule` of every record held now and, from now on, of every record stored
    /// or deleted.
    func feedExpiries(to schedule: ExpirySchedule)
}
