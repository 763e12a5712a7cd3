/// Gathers the audit entries a node makes until they go to the stream (SPEC §3c), by shard: the
/// node takes them ``interval`` after the first (``AuditLog``'s timer), or at once when one
/// shard holds ``maxEntries`` (so one message stays well under NATS's payload limit).
public struct AuditBatcher: Sendable {
    private var pending: [[AuditEntry]] = Array(repeating: [], count: AuditBatch.shardCount)
    /// How many entries wait.
    public private(set) var count = 0
    /// The longest an entry waits for its batch.
    public let interval: Duration
    /// The most entries in one batch.
    public let maxEntries: Int

    public init(interval: Duration, maxEntries: Int) {
        self.interval = interval
        self.maxEntries = max(1, maxEntries)
    }

    /// Adds an entry.
    /// - Returns: whether its shard's batch is full and should go out now.
    public mutating func add(_ entry: AuditEntry) -> Bool {
        let shard = AuditBatch.shard(of: entry.user)
        pending[shard].append(entry)
        count += 1
        return pending[shard].count >= maxEntries
    }

    /// Takes every waiting entry, one batch per shard and at most ``maxEntries`` a batch, in
    /// the order the entries came.
    public mutating func take() -> [AuditBatch] {
        guard count > 0 else { return [] }
        var batches: [AuditBatch] = []
        for shard in pending.indices where !pending[shard].isEmpty {
            var start = 0
            while start < pending[shard].count {
                let end = min(start + maxEntries, pending[shard].count)
                batches.append(AuditBatch(shard: shard, entries: Array(pending[shard][start..<end])))
                start = end
            }
            pending[shard].removeAll(keepingCapacity: true)
        }
        count = 0
        return batches
    }
}
