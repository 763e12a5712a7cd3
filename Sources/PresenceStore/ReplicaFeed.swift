import Logging
import NATSClient
import PresenceCore
import NIOConcurrencyHelpers

/// Keeps a ``PresenceReplica`` current from a KV `WatchAll` (its events are applied on the
/// watcher's own thread).
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
        var watching = false
        var lastError: String?
        /// The rules of the link to the bucket: reachability, bucket identity, recreation.
        var link = HubLinkStateMachine()
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let replica: PresenceReplica
    private let metrics: StoreMetrics
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// The highest revision the current watcher delivered (its own lock: every event sets it).
    private let delivered = NIOLockedValueBox<UInt64>(0)
    /// Where the current watcher's initial load spends its time (only its thread writes it).
    private let loadTiming = NIOLockedValueBox(ReplicaLoadTiming())
    private let hubProblem: (@Sendable () -> String?)?

    init(replica: PresenceReplica, metrics: StoreMetrics, logger: Logger, hubProblem: (@Sendable () -> String?)? = nil) {
        self.replica = replica
        self.metrics = metrics
        self.logger = logger
        self.hubProblem = hubProblem
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLockedValue { $0.stopped } }

    func attach(bucket: KeyValueBucket) {
        state.withLockedValue { $0.bucket = bucket }
    }

    /// Called on a nats.c thread when the connection changes.
    func connectionChanged(_ event: NATSConnection.Event) {
        switch event {
        case .disconnected: handle { $0.connectionLost() }
        case .reconnected: handle { $0.reconnected() }
        case .closed: break
        }
    }

    /// A probe read the bucket's state (so its JetStream server answers).
    /// - Parameter highestRevisionBefore: the replica's highest revision read before the probe was sent.
    /// - Parameter generation: the replica's generation read with that revision; an answer
    ///   from before a reset of the replica is only a sign of life.
    /// - Parameter deliveredBefore: ``deliveredRevision`` read with them.
    func probeAnswered(
        _ bucketState: StreamState, highestRevisionBefore: UInt64, generation: UInt64, deliveredBefore: UInt64
    ) {
        let highest = replica.generation == generation ? highestRevisionBefore : 0
        handle { $0.probeAnswered(bucketState, highestRevisionBefore: highest, deliveredBefore: deliveredBefore) }
    }

    /// The highest revision the current watcher delivered.
    var deliveredRevision: UInt64 { delivered.withLockedValue { $0 } }

    /// A probe failed: no responders (the hub is gone) or no answer in time (it may be busy).
    /// - Returns: what the feed did about it.
    @discardableResult
    func probeFailed(noResponders: Bool) -> HubLinkStateMachine.Action {
        handle { $0.probeFailed(noResponders: noResponders) }
    }

    /// A read or write found nobody to answer it.
    func requestFoundNoResponders() {
        handle { $0.requestFoundNoResponders() }
    }

    /// Whether the bucket's JetStream server answered the last probe.
    var isHubReachable: Bool { state.withLockedValue { $0.link.isHubReachable } }

    /// Feeds one event to the link's state machine and carries out its action.
    @discardableResult
    private func handle(_ event: (inout HubLinkStateMachine) -> HubLinkStateMachine.Action) -> HubLinkStateMachine.Action {
        let (action, watcher) = state.withLockedValue { state in (event(&state.link), state.watcher) }
        switch action {
        case .none:
            break
        case .reportUnreachable(let definitive):
            logger.warning(
                "the presence bucket is not reachable; serving reads from the replica, refusing writes",
                metadata: ["cause": "\(hubProblem?() ?? (definitive ? "no responders" : "no answer in time"))"])
        case .reportAnswersAgain:
            logger.info("the presence bucket answers again")
        case .recreateWatcherHubBack:
            logger.info("the presence bucket is reachable again; resynchronising the replica")
            watcher?.stop()
        case .recreateWatcherBucketReplaced(let lastRevision, let highestSeen):
            logger.warning(
                "the presence bucket was recreated or restored from an older copy; rebuilding the replica",
                metadata: ["last_revision": "\(lastRevision)", "highest_seen": "\(highestSeen)"])
            watcher?.stop()
        case .reportConnectionLost:
            logger.warning("NATS connection lost; reads are served from the replica, writes refused")
        case .recreateWatcherReconnected:
            logger.info("NATS connection re-established; resynchronising the replica")
            watcher?.stop()
        case .recreateWatcherStalled(let lastRevision, let delivered):
            logger.warning(
                "the KV watcher delivers nothing while the bucket is ahead of it; recreating it",
                metadata: ["last_revision": "\(lastRevision)", "delivered": "\(delivered)"])
            metrics.watcherStalls.increment()
            watcher?.stop()
        }
        return action
    }

    /// Whether the watcher is live and its initial values are in.
    func readiness() -> Readiness {
        let (watching, lastError, reachable) = state.withLockedValue { ($0.watching, $0.lastError, $0.link.isHubReachable) }
        guard reachable else {
            let cause = hubProblem?() ?? "it does not answer"
            return .notReady("the hub (center) is not reachable: \(cause); reads are served from the last known state")
        }
        guard watching else { return .notReady("the presence bucket is not reachable" + (lastError.map { ": \($0)" } ?? "")) }
        guard replica.isInitialSyncComplete else { return .notReady("the replica is loading the presence bucket") }
        return .ready
    }

    /// Runs the watch loop and returns when it has ended, or at once after ``stop()``.
    ///
    /// The loop runs in a task of its own, not as a child of this one: after ``stop()`` it may
    /// still be waiting for a nats.c call on the client's thread pool (setting up a watcher
    /// may take up to a minute while the hub is away), which ends on its own and must not
    /// hold up shutdown. The loop checks ``isStopped`` after every wait and then ends.
    func run() async {
        Task { [self] in
            await watchLoop()
            finish()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Stops the watcher and lets ``run()`` return at once (see there).
    func stop() {
        let watcher = state.withLockedValue { state in
            state.stopped = true
            state.link.stop()
            return state.watcher
        }
        watcher?.stop()
        finish()
    }

    /// Releases the callers of ``run()``; safe to call more than once.
    private func finish() {
        let waiters = state.withLockedValue { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    private func watchLoop() async {
        var backoff = 0.25
        while !isStopped {
            guard let bucket = state.withLockedValue({ $0.bucket }) else { return }
            let watcher: KeyValueWatcher
            let cutoff: UInt64
            do {
                cutoff = try await prepareResync(bucket)
                watcher = try await bucket.watchAll(timeout: .seconds(60))
            } catch {
                state.withLockedValue {
                    $0.watching = false
                    $0.lastError = "\(error)"
                }
                logger.warning("cannot start the KV watcher; retrying", metadata: ["error": "\(error)", "retry_in_seconds": "\(backoff)"])
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, 5)
                continue
            }
            backoff = 0.25
            let stopped = state.withLockedValue { state in
                state.watcher = watcher
                state.watching = true
                state.lastError = nil
                return state.stopped
            }
            if stopped { return }
            // A reconnect while watchAll() ran asked for yet another watcher.
            if state.withLockedValue({ $0.link.recreatePending }) {
                watcher.stop()
                state.withLockedValue {
                    $0.watcher = nil
                    $0.watching = false
                }
                continue
            }
            metrics.watcherResyncs.increment()
            handle { $0.watcherCreated() }
            loadTiming.withLockedValue { $0 = ReplicaLoadTiming() }
            await consume(watcher, cutoff: cutoff)
            state.withLockedValue {
                $0.watcher = nil
                $0.watching = false
            }
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
        let replaced = state.withLockedValue { state in
            delivered.withLockedValue { $0 = 0 }
            return state.link.watcherStarting(bucketState, highestRevisionBefore: highestBefore)
        }
        if replaced {
            logger.warning(
                "rebuilding the replica: the presence bucket is not the one it mirrored (recreated, or restored from an older copy)",
                metadata: ["last_revision": "\(bucketState.lastSequence)", "highest_seen": "\(highestBefore)"])
            replica.reset()
            metrics.replicaRebuilds.increment()
        }
        replica.beginResync()
        return bucketState.lastSequence
    }

    /// Applies the watcher's events until it stops or fails.
    private func consume(_ watcher: KeyValueWatcher, cutoff: UInt64) async {
        do {
            try await watcher.deliver(idleTimeout: .seconds(1)) { [self] event in
                receive(event, cutoff: cutoff)
            }
        } catch {
            state.withLockedValue { $0.lastError = "\(error)" }
            logger.warning("KV watcher failed; recreating it", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .milliseconds(100))
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
                replica.reset()
                metrics.replicaRebuilds.increment()
                return false
            }
            return true
        case .initialValuesDone(let count):
            let dropped = replica.finishResync(upTo: cutoff)
            let timing = loadTiming.withLockedValue { $0.metadata() }
            logger.info(
                "replica loaded",
                metadata: timing.merging(["records": "\(count)", "dropped": "\(dropped.count)"]) { $1 })
            return true
        case .timeout:
            return !state.withLockedValue { $0.stopped || $0.link.recreatePending }
        }
    }

    /// Applies one watcher entry.
    /// - Returns: false when the entry shows that the bucket went backwards (see below).
    private func apply(_ entry: KeyValueEntry, live: Bool, cutoff: UInt64) -> Bool {
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
