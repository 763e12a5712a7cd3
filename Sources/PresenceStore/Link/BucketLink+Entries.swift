import Logging
import NATSClient
import PresenceCore

/// Applying the watcher's entries to the replica.
extension BucketLink {
    /// Applies one watcher entry.
    /// - Returns: false when the entry shows that the bucket went backwards (see below).
    func apply(_ entry: KeyValueEntry, live: Bool, cutoff: UInt64) -> Bool {
        metrics.watcherEvents.increment()
        guard let user = UserKeyCodec.userID(forKey: entry.key) else {
            logger.debug("ignoring a key that is not a presence record", metadata: ["key": "\(entry.key)"])
            return true
        }
        switch entry.operation {
        case .put:
            if let held = replica.heldRevision(of: user), held >= entry.revision {
                // The node's own writes come back through the watcher: nothing to decode. But
                // among the initial values, which are the latest of each key, a newer record
                // held from before the watcher started means the bucket went backwards
                // (restored from an older copy and written past the replica's highest revision).
                return live || held == entry.revision || held > cutoff
            }
            let decoded = timed(\.decoding, loading: !live) {
                StoredPresence(decoding: entry.value, revision: entry.revision)
            }
            guard let stored = decoded, stored.user == user else {
                logger.warning("ignoring an unreadable presence record", metadata: ["key": "\(entry.key)"])
                return true
            }
            // Lag is measured on records a reader sees as present (not on invisible users).
            if live && stored.status != .offline {
                let lag = Timestamp.now().millisecondsSinceEpoch - stored.lastWrittenMillis
                metrics.watcherLag.record(.milliseconds(max(0, lag)))
            }
            timed(\.storing, loading: !live) { replica.apply(stored) }
        case .delete, .purge:
            replica.remove(user, revision: entry.revision)
        }
        return true
    }

    /// Runs `body`; during the initial load, adds its time to `part` of ``loadTiming``.
    @discardableResult
    private func timed<Result>(
        _ part: WritableKeyPath<ReplicaLoadTiming, Duration>, loading: Bool, _ body: () -> Result
    ) -> Result {
        guard loading else { return body() }
        let started = ContinuousClock.now
        let result = body()
        let elapsed = ContinuousClock.now - started
        loadTiming.withLockedValue { $0[keyPath: part] += elapsed }
        return result
    }
}
