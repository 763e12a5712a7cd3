import Foundation
import Logging
import NATSClient
import PresenceCore
import Synchronization

/// Keeps a ``PresenceReplica`` current from a KV `WatchAll` on a thread of its own.
///
/// The watcher's initial values mark the replica complete. After a reconnect the watcher is
/// recreated at once (nats.c alone would take ~9 s to notice) and the replica
/// resynchronises from the bucket; a watcher error also leads to a new watcher. Every
/// resynchronisation converges to the bucket exactly: records the bucket no longer holds are
/// dropped, and a bucket that was recreated or restored from an older copy (another creation
/// time, or a last revision below one already applied) makes the replica start afresh.
final class ReplicaFeed: Sendable {
    private struct State {
        var bucket: KeyValueBucket?
        var watcher: KeyValueWatcher?
        var stopped = false
        var recreate = false
        var watching = false
        var lastError: String?
        var hubReachable = true
        /// The hub was found gone ("no responders"), not merely slow, since it last answered:
        /// its consumers may be gone too, so the watcher must be recreated when it is back.
        var hubLost = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// The creation time of the bucket's stream the replica mirrors.
        var bucketCreated: Int64?
        /// Whether the connection was lost (logged once until it is back).
        var disconnected = false
    }

    let replica: PresenceReplica
    private let metrics: StoreMetrics
    private let logger: Logger
    private let state = Mutex(State())
    private let hubProblem: (@Sendable () -> String?)?

    init(replica: PresenceReplica, metrics: StoreMetrics, logger: Logger, hubProblem: (@Sendable () -> String?)? = nil) {
        self.replica = replica
        self.metrics = metrics
        self.logger = logger
        self.hubProblem = hubProblem
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLock { $0.stopped } }

    func attach(bucket: KeyValueBucket) {
        state.withLock { $0.bucket = bucket }
    }

    /// Called on a nats.c thread when the connection changes.
    func connectionChanged(_ event: NATSConnection.Event) {
        switch event {
        case .disconnected:
            let first = state.withLock { state in
                defer { state.disconnected = true }
                return !state.stopped && !state.disconnected
            }
            if first { logger.warning("NATS connection lost; reads are served from the replica, writes refused") }
        case .reconnected:
            state.withLock { $0.disconnected = false }
            logger.info("NATS connection re-established; resynchronising the replica")
            recreateWatcher()
        case .closed:
            break
        }
    }

    /// Records whether the bucket's JetStream server (the hub, for a leaf) answers.
    ///
    /// - Parameter definitive: for `false`, whether the hub is known to be gone ("no
    ///   responders") rather than slow to answer. When a lost hub comes back the watcher is
    ///   recreated at once and the replica resynchronised, instead of waiting for nats.c to
    ///   notice missed heartbeats. A hub that was only slow (say, busy sending a new leaf a
    ///   million records) keeps its consumers: recreating the watcher then would restart that
    ///   very load, and under a busy hub it would never finish.
    func hubReachabilityChanged(_ reachable: Bool, definitive: Bool = true) {
        let (changed, wasLost) = state.withLock { state in
            let changed = state.hubReachable != reachable
            let wasLost = state.hubLost
            state.hubReachable = reachable
            if reachable {
                state.hubLost = false
            } else if definitive {
                state.hubLost = true
            }
            return (changed, wasLost)
        }
        guard changed else { return }
        if reachable {
            if wasLost {
                logger.info("the presence bucket is reachable again; resynchronising the replica")
                recreateWatcher()
            } else {
                logger.info("the presence bucket answers again")
            }
        } else {
            logger.warning(
                "the presence bucket is not reachable; serving reads from the replica, refusing writes",
                metadata: ["cause": "\(hubProblem?() ?? (definitive ? "no responders" : "no answer in time"))"])
        }
    }

    /// Checks the bucket's state from a probe against the bucket the replica mirrors: a new
    /// creation time, or a last revision below the highest the replica had applied before
    /// the probe was sent, means the bucket was recreated or restored from an older copy.
    /// The watcher is then recreated, and the new one rebuilds the replica.
    func observe(_ bucketState: StreamState, highestRevisionBefore: UInt64) {
        let replaced = state.withLock { state in
            guard !state.recreate, let known = state.bucketCreated else { return false }
            return known != bucketState.created || bucketState.lastSequence < highestRevisionBefore
        }
        guard replaced else { return }
        logger.warning(
            "the presence bucket was recreated or restored from an older copy; rebuilding the replica",
            metadata: ["last_revision": "\(bucketState.lastSequence)", "highest_seen": "\(highestRevisionBefore)"])
        recreateWatcher()
    }

    /// Whether the bucket's JetStream server answered the last probe.
    var isHubReachable: Bool { state.withLock { $0.hubReachable } }

    private func recreateWatcher() {
        let watcher = state.withLock { state in
            state.recreate = true
            return state.watcher
        }
        watcher?.stop()
    }

    /// Whether the watcher is live and its initial values are in.
    func readiness() -> Readiness {
        let (watching, lastError, reachable) = state.withLock { ($0.watching, $0.lastError, $0.hubReachable) }
        guard reachable else {
            let cause = hubProblem?() ?? "it does not answer"
            return .notReady("the hub (center) is not reachable: \(cause); reads are served from the last known state")
        }
        guard watching else { return .notReady("the presence bucket is not reachable" + (lastError.map { ": \($0)" } ?? "")) }
        guard replica.isInitialSyncComplete else { return .notReady("the replica is loading the presence bucket") }
        return .ready
    }

    /// Runs the watcher thread and returns when it has ended after ``stop()``.
    func run() async {
        let thread = Thread { [self] in
            watchLoop()
            finish()
        }
        thread.name = "presence-watcher"
        thread.start()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Stops the watcher thread and lets ``run()`` return at once: a thread still blocked in
    /// nats.c (setting up a watcher may take up to a minute while the hub is away) ends on its
    /// own and must not hold up shutdown.
    func stop() {
        let watcher = state.withLock { state in
            state.stopped = true
            return state.watcher
        }
        watcher?.stop()
        finish()
    }

    /// Releases the callers of ``run()``; safe to call more than once.
    private func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    private func watchLoop() {
        var backoff = 0.25
        while !state.withLock({ $0.stopped }) {
            // Cleared before the watcher is made, so a reconnect during watchAll() still
            // leads to a fresh watcher.
            guard let bucket = state.withLock({ state -> KeyValueBucket? in
                state.recreate = false
                return state.bucket
            }) else { return }
            let watcher: KeyValueWatcher
            let cutoff: UInt64
            do {
                cutoff = try prepareResync(bucket)
                watcher = try bucket.watchAll(timeout: .seconds(60))
            } catch {
                state.withLock {
                    $0.watching = false
                    $0.lastError = "\(error)"
                }
                logger.warning("cannot start the KV watcher; retrying", metadata: ["error": "\(error)", "retry_in_seconds": "\(backoff)"])
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            backoff = 0.25
            let stopped = state.withLock { state in
                state.watcher = watcher
                state.watching = true
                state.lastError = nil
                return state.stopped
            }
            if stopped { return }
            if state.withLock({ $0.recreate }) { continue }
            metrics.watcherResyncs.increment()
            consume(watcher, cutoff: cutoff)
            state.withLock {
                $0.watcher = nil
                $0.watching = false
            }
        }
    }

    /// Reads the bucket's state before a new watcher starts: when it is not the bucket the
    /// replica mirrors (recreated, or restored from an older copy), the replica starts
    /// afresh; either way a resynchronisation begins.
    /// - Returns: the bucket's last revision: held records the watcher does not deliver and
    ///   whose revision is at most this are no longer in the bucket.
    private func prepareResync(_ bucket: KeyValueBucket) throws(NATSError) -> UInt64 {
        let highestBefore = replica.highestRevision
        let bucketState = try bucket.state(timeout: .seconds(10))
        let known = state.withLock { state in
            defer { state.bucketCreated = bucketState.created }
            return state.bucketCreated
        }
        if (known.map { $0 != bucketState.created } ?? false) || bucketState.lastSequence < highestBefore {
            logger.warning(
                "rebuilding the replica: the presence bucket is not the one it mirrored (recreated, or restored from an older copy)",
                metadata: ["last_revision": "\(bucketState.lastSequence)", "highest_seen": "\(highestBefore)"])
            replica.reset()
            metrics.replicaRebuilds.increment()
        }
        replica.beginResync()
        return bucketState.lastSequence
    }

    /// Applies events until the watcher stops or fails.
    private func consume(_ watcher: KeyValueWatcher, cutoff: UInt64) {
        var applied = 0
        while true {
            let event: KeyValueWatcher.Event
            do {
                event = try watcher.next(timeout: .seconds(1))
            } catch {
                state.withLock { $0.lastError = "\(error)" }
                logger.warning("KV watcher failed; recreating it", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.1)
                return
            }
            switch event {
            case .entry(let entry):
                apply(entry, live: replica.isInitialSyncComplete)
                applied += 1
            case .initialValuesDone:
                let dropped = replica.finishResync(upTo: cutoff)
                logger.info("replica loaded", metadata: ["records": "\(applied)", "dropped": "\(dropped.count)"])
            case .timeout:
                if state.withLock({ $0.stopped || $0.recreate }) { return }
            case .stopped:
                return
            }
        }
    }

    private func apply(_ entry: KeyValueEntry, live: Bool) {
        metrics.watcherEvents.increment()
        guard let user = UserKeyCodec.userID(forKey: entry.key) else {
            logger.debug("ignoring a key that is not a presence record", metadata: ["key": "\(entry.key)"])
            return
        }
        switch entry.operation {
        case .put:
            // The node's own writes come back through the watcher: nothing to decode.
            if replica.holds(user, revisionAtLeast: entry.revision) { return }
            guard let record = PresenceJSON.decodeValue(entry.value, revision: entry.revision),
                record.userID == user
            else {
                logger.warning("ignoring an unreadable presence record", metadata: ["key": "\(entry.key)"])
                return
            }
            if live && record.status != .offline {
                let lag = Timestamp.now().millisecondsSinceEpoch - record.updatedAt.millisecondsSinceEpoch
                metrics.watcherLag.record(.milliseconds(max(0, lag)))
            }
            replica.apply(StoredPresence(record))
        case .delete, .purge:
            replica.remove(user, revision: entry.revision)
        }
    }
}
