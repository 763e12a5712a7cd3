import Logging
import NATSClient
import PresenceCore

/// The watch loop: a watcher on the bucket feeds the replica; a new one replaces it whenever
/// the machine asks (reconnection, the hub back, a replaced bucket, a stall).
extension BucketLink {
    /// Who waits for the watch loop to end.
    struct WatchLoopEnd: Sendable {
        var ended = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Runs the watch loop and returns when it has ended, or at once after ``stop()``.
    ///
    /// The loop runs in a task of its own, not as a child of this one: after ``stop()`` it may
    /// still be waiting for a nats.c call on the client's thread pool (setting up a watcher
    /// may take up to a minute while the hub is away), which ends on its own and must not
    /// hold up shutdown. The loop asks the machine after every wait and then ends.
    func feedReplica() async {
        Task { [self] in
            await watchLoop()
            endWatchLoop()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = watchLoopEnd.withLockedValue { end in
                if end.ended { return true }
                end.waiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
    }

    /// Releases the callers of ``feedReplica()``; safe to call more than once.
    func endWatchLoop() {
        let waiters = watchLoopEnd.withLockedValue { end in
            end.ended = true
            defer { end.waiters = [] }
            return end.waiters
        }
        waiters.forEach { $0.resume() }
    }

    private func watchLoop() async {
        while let bucket = machine.withLockedValue({ $0.link?.watchBucket }) {
            let watcher: KeyValueWatcher
            let cutoff: UInt64
            do {
                cutoff = try await prepareResync(bucket)
                watcher = try await bucket.watchAll(timeout: .seconds(60))
            } catch {
                let pause = machine.withLockedValue { $0.watcherFailedToStart("\(error)") }
                let (seconds, attoseconds) = pause.components
                logger.warning(
                    "cannot start the KV watcher; retrying",
                    metadata: ["error": "\(error)", "retry_in_seconds": "\(Double(seconds) + Double(attoseconds) / 1e18)"])
                try? await Task.sleep(for: pause)
                continue
            }
            guard machine.withLockedValue({ $0.watcherCreated(watcher) }) == .consume else {
                // A reconnection while watchAll() ran asked for yet another watcher (or the link stopped).
                watcher.stop()
                continue
            }
            metrics.watcherResyncs.increment()
            loadTiming.withLockedValue { $0 = ReplicaLoadTiming() }
            let failure = await consume(watcher, cutoff: cutoff)
            machine.withLockedValue { $0.watcherEnded(error: failure) }
            if failure != nil { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// Reads the bucket's state before a new watcher starts: when it is not the bucket the
    /// replica mirrors (recreated, or restored from an older copy), the replica starts
    /// afresh; either way a resynchronisation begins. Requests for a new watcher made before
    /// this point are satisfied by this one.
    /// - Returns: the bucket's last revision: held records the watcher does not deliver and
    ///   whose revision is at most this are no longer in the bucket.
    private func prepareResync(_ bucket: KeyValueBucket) async throws(NATSError) -> UInt64 {
        let highestBefore = replica.highestRevision
        let bucketState = try await bucket.state(timeout: .seconds(10))
        let replaced = machine.withLockedValue { machine in
            delivered.withLockedValue { $0 = 0 }
            return machine.watcherStarting(bucketState, highestRevisionBefore: highestBefore)
        }
        if replaced {
            logger.warning(
                "rebuilding the replica: the presence bucket is not the one it mirrored (recreated, or restored from an older copy)",
                metadata: ["last_revision": "\(bucketState.lastSequence)", "highest_seen": "\(highestBefore)"])
            replica.reset()
            plane.heardFromNow()  // the heartbeats held with the old records are gone
            metrics.replicaRebuilds.increment()
        }
        replica.beginResync()
        return bucketState.lastSequence
    }

    /// Applies the watcher's events until it stops or fails.
    /// - Returns: why it failed; nil when it was stopped.
    private func consume(_ watcher: KeyValueWatcher, cutoff: UInt64) async -> String? {
        do {
            try await watcher.deliver(idleTimeout: .seconds(1)) { [self] event in
                receive(event, cutoff: cutoff)
            }
            return nil
        } catch {
            logger.warning("KV watcher failed; recreating it", metadata: ["error": "\(error)"])
            return "\(error)"
        }
    }

    /// One event of the watcher, on the watcher's thread.
    /// - Returns: whether to go on with this watcher.
    private func receive(_ event: KeyValueWatcher.Event, cutoff: UInt64) -> Bool {
        switch event {
        case .entry(let entry):
            delivered.withLockedValue { $0 = max($0, entry.revision) }
            guard apply(entry, live: replica.isInitialSyncComplete, cutoff: cutoff) else {
                logger.warning(
                    "rebuilding the replica: the presence bucket went backwards (restored from an older copy)",
                    metadata: ["key": "\(entry.key)", "revision": "\(entry.revision)"])
                machine.withLockedValue { $0.watcherEnded(error: nil) }  // not ready from this moment on
                replica.reset()
                plane.heardFromNow()  // the heartbeats held with the old records are gone
                metrics.replicaRebuilds.increment()
                return false
            }
            return true
        case .initialValuesDone(let count):
            let dropped = replica.finishResync(upTo: cutoff)
            machine.withLockedValue { $0.initialValuesLoaded() }
            let timing = loadTiming.withLockedValue { $0.metadata() }
            logger.info(
                "replica loaded",
                metadata: timing.merging(["records": "\(count)", "dropped": "\(dropped.count)"]) { $1 })
            return true
        case .timeout:
            return machine.withLockedValue { $0.watcherGoesOn }
        }
    }
}
