/// Gathers the heartbeats a node accepts until its next batch goes out (SPEC §3a): a
/// session heartbeating twice in one period is sent once, with its later time. A batch is
/// due `interval` after its first heartbeat, or at once when it holds `maxHeartbeats`
/// (so one message stays well under NATS's payload limit).
public struct HeartbeatBatcher: Sendable {
    private struct Key: Hashable {
        var user: UserID
        var session: SessionID
    }

    private var pending: [Key: Timestamp] = [:]
    private var firstAt: ContinuousClock.Instant?
    /// Heartbeats were left over by a full batch: the rest is due at once.
    private var leftOver = false
    private let interval: Duration
    private let maxHeartbeats: Int

    /// - Parameters:
    ///   - interval: the longest a heartbeat waits for its batch.
    ///   - maxHeartbeats: the most heartbeats in one batch.
    public init(interval: Duration, maxHeartbeats: Int) {
        self.interval = interval
        self.maxHeartbeats = max(1, maxHeartbeats)
    }

    /// Adds a heartbeat accepted at `now`.
    /// - Returns: whether the batch is full and should go out now.
    public mutating func add(_ heartbeat: HeartbeatBatch.Heartbeat, now: ContinuousClock.Instant) -> Bool {
        let key = Key(user: heartbeat.user, session: heartbeat.session)
        if let known = pending[key], known >= heartbeat.time { return pending.count >= maxHeartbeats }
        pending[key] = heartbeat.time
        if firstAt == nil { firstAt = now }
        return pending.count >= maxHeartbeats
    }

    /// How many heartbeats wait.
    public var count: Int { pending.count }

    /// Whether the batch should go out at `now`: full, or its first heartbeat waited `interval`.
    public func isDue(at now: ContinuousClock.Instant) -> Bool {
        guard let firstAt else { return false }
        return leftOver || pending.count >= maxHeartbeats || now - firstAt >= interval
    }

    /// When the waiting batch falls due, nil when nothing waits.
    public var dueAt: ContinuousClock.Instant? {
        firstAt.map { $0 + interval }
    }

    /// Takes up to `maxHeartbeats` of the waiting heartbeats as a batch of `nodeID`, nil when
    /// none wait. What is left (heartbeats came faster than batches went) stays due at once.
    public mutating func take(nodeID: String) -> HeartbeatBatch? {
        guard !pending.isEmpty else { return nil }
        var heartbeats: [HeartbeatBatch.Heartbeat] = []
        if pending.count <= maxHeartbeats {
            heartbeats = pending.map { HeartbeatBatch.Heartbeat(user: $0.key.user, session: $0.key.session, time: $0.value) }
            pending.removeAll(keepingCapacity: true)
            firstAt = nil
            leftOver = false
        } else {
            heartbeats.reserveCapacity(maxHeartbeats)
            for (key, time) in pending.prefix(maxHeartbeats) {
                heartbeats.append(HeartbeatBatch.Heartbeat(user: key.user, session: key.session, time: time))
            }
            for heartbeat in heartbeats { pending[Key(user: heartbeat.user, session: heartbeat.session)] = nil }
            leftOver = true
        }
        return HeartbeatBatch(nodeID: nodeID, heartbeats: heartbeats)
    }
}
