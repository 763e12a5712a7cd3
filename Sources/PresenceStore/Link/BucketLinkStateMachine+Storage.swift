import NATSClient

/// Storage refusals (``StorageRefusals``) and replica growth: what the probe may do besides asking.
extension BucketLinkStateMachine {
    /// JetStream refused a write for lack of storage.
    mutating func storageRefused(now: ContinuousClock.Instant) {
        withBound { $0.storage.refused(at: now) }
    }

    /// A write (or a probe write) was stored.
    mutating func writeStored() {
        withBound { $0.storage.stored() }
    }

    /// Whether a probe write is due now; when it is, it counts as made.
    mutating func takeStorageProbe(now: ContinuousClock.Instant) -> Bool {
        withBound { $0.storage.takeProbe(now: now) } ?? false
    }

    /// Whether a center tries now to grow the bucket to `wanted` replicas: it keeps fewer
    /// (`bucketReplicas`) and the last try is ``growRetryInterval`` old.
    mutating func takeGrowAttempt(bucketReplicas: Int, wanted: Int, now: ContinuousClock.Instant) -> Bool {
        guard isCenter, bucketReplicas < wanted else { return false }
        return withBound { bound in
            if let last = bound.lastGrowAttempt, now - last < Self.growRetryInterval { return false }
            bound.lastGrowAttempt = now
            return true
        } ?? false
    }
}
