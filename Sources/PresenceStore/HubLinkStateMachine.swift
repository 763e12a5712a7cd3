import NATSClient

/// The rules of a node's link to its bucket, as a value: whether the bucket's JetStream
/// server (the hub, for a leaf) answers, whether the bucket is still the one the replica
/// mirrors, and when the watcher must be recreated. Events go in, actions come out; the
/// ``ReplicaFeed`` executes them outside its lock. No I/O, so every transition is unit-tested.
///
/// - A probe that gets "no responders" means the hub is gone: unreachable at once, and its
///   consumers may be gone too, so the watcher is recreated when it answers again.
/// - A probe that times out may be a hub that is only busy (say, sending a new leaf a million
///   records): unreachable after ``slowAnswersBeforeUnreachable`` in a row, and the watcher
///   is kept when it answers again (recreating it would restart the very load that made the
///   hub slow).
/// - A reconnection of the NATS connection recreates the watcher at once (nats.c alone takes
///   about 9 s to notice).
/// - A bucket with another creation time, or whose last revision is below the highest the
///   replica had applied before the probe was sent, was recreated or restored from an older
///   copy: the watcher is recreated, and the new one rebuilds the replica from scratch.
/// - A watcher (once set up) that delivers nothing while the bucket holds revisions past the
///   last it delivered, for ``stalledProbesBeforeRecreate`` probes in a row, is stalled: its
///   consumer was lost with a clustered center that died, or was set up on a bucket just
///   recreated, and nats.c does not always notice. It is recreated, once per last revision of
///   the bucket, so a revision no watcher delivers costs one resynchronisation, not a loop.
struct HubLinkStateMachine: Sendable {
    /// What the feed does after an event.
    enum Action: Sendable, Equatable {
        case none
        /// Log that the hub does not answer; writes are refused from now on.
        case reportUnreachable(definitive: Bool)
        /// Log that the hub answers again; the watcher is kept.
        case reportAnswersAgain
        /// The hub is back after it was gone: recreate the watcher and resynchronise.
        case recreateWatcherHubBack
        /// The bucket is not the one the replica mirrors: recreate the watcher (it rebuilds).
        case recreateWatcherBucketReplaced(lastRevision: UInt64, highestSeen: UInt64)
        /// Log that the NATS connection is lost (once until it is back).
        case reportConnectionLost
        /// The connection is back: recreate the watcher and resynchronise.
        case recreateWatcherReconnected
        /// The watcher delivers nothing while the bucket is ahead: recreate it and resynchronise.
        case recreateWatcherStalled(lastRevision: UInt64, delivered: UInt64)
    }

    /// Probes in a row that find a live watcher stalled before it is recreated (3 s at the
    /// store's 500 ms probe interval).
    static let stalledProbesBeforeRecreate = 6

    /// Timed-out probes in a row that mark the hub unreachable.
    static let slowAnswersBeforeUnreachable = 3

    /// Whether the hub answered the last probe (or was not yet found silent).
    private(set) var isHubReachable = true
    /// The hub was found gone ("no responders") since it last answered.
    private var hubLost = false
    private var slowAnswers = 0
    private var disconnected = false
    private var stopped = false
    /// The creation time of the bucket's stream the replica mirrors, once a watcher started.
    private(set) var bucketCreated: Int64?
    /// A new watcher was asked for and has not started yet.
    private(set) var recreatePending = false
    /// A watcher is set up and must be delivering (its initial values, then every change).
    private var watcherLive = false
    /// The revision the watcher had delivered up to, and for how many probes in a row it did
    /// not move while the bucket was ahead of it.
    private var stall: (delivered: UInt64, probes: Int)?
    /// The bucket's last revision when a stall last recreated the watcher.
    private var recreatedForStallAt: UInt64?

    /// A probe got the bucket's state.
    /// - Parameters:
    ///   - highestRevisionBefore: the replica's highest revision, read before the probe was sent.
    ///   - deliveredBefore: the highest revision the watcher delivered, read at the same time;
    ///     nil: not known (no stall is looked for).
    mutating func probeAnswered(_ bucket: StreamState, highestRevisionBefore: UInt64, deliveredBefore: UInt64? = nil)
        -> Action
    {
        slowAnswers = 0
        let wasReachable = isHubReachable
        let wasLost = hubLost
        isHubReachable = true
        hubLost = false
        if !recreatePending, let known = bucketCreated,
            known != bucket.created || bucket.lastSequence < highestRevisionBefore
        {
            recreatePending = true
            return .recreateWatcherBucketReplaced(lastRevision: bucket.lastSequence, highestSeen: highestRevisionBefore)
        }
        if wasLost {
            recreatePending = true
            return .recreateWatcherHubBack
        }
        if let deliveredBefore, let stalled = checkStall(lastRevision: bucket.lastSequence, delivered: deliveredBefore) {
            return stalled
        }
        return wasReachable ? .none : .reportAnswersAgain
    }

    private mutating func checkStall(lastRevision: UInt64, delivered: UInt64) -> Action? {
        guard watcherLive, !recreatePending, lastRevision > delivered else {
            stall = nil
            return nil
        }
        let probes = stall?.delivered == delivered ? (stall?.probes ?? 0) + 1 : 1
        stall = (delivered, probes)
        guard probes >= Self.stalledProbesBeforeRecreate else { return nil }
        guard recreatedForStallAt != lastRevision else {
            // Already recreated for this revision (one no watcher delivers): start counting
            // again, so a later write needs a stall of its own, not one probe.
            stall = (delivered, 0)
            return nil
        }
        recreatedForStallAt = lastRevision
        recreatePending = true
        watcherLive = false
        stall = nil
        return .recreateWatcherStalled(lastRevision: lastRevision, delivered: delivered)
    }

    /// The watcher is set up: from now on it must deliver (set-up itself may take a minute
    /// over a million keys and is not watched here).
    mutating func watcherCreated() -> Action {
        watcherLive = true
        stall = nil
        return .none
    }

    /// A probe failed: no responders (the hub is gone), or no answer in time.
    mutating func probeFailed(noResponders: Bool) -> Action {
        slowAnswers += 1
        guard noResponders || slowAnswers >= Self.slowAnswersBeforeUnreachable else { return .none }
        return markUnreachable(definitive: noResponders)
    }

    /// A read or a write found nobody to answer it: the hub is gone.
    mutating func requestFoundNoResponders() -> Action {
        markUnreachable(definitive: true)
    }

    private mutating func markUnreachable(definitive: Bool) -> Action {
        if definitive { hubLost = true }
        guard isHubReachable else { return .none }
        isHubReachable = false
        return .reportUnreachable(definitive: definitive)
    }

    /// The NATS connection was lost.
    mutating func connectionLost() -> Action {
        guard !stopped, !disconnected else { return .none }
        disconnected = true
        return .reportConnectionLost
    }

    /// The NATS connection is back.
    mutating func reconnected() -> Action {
        disconnected = false
        guard !stopped else { return .none }
        recreatePending = true
        return .recreateWatcherReconnected
    }

    /// A watcher is about to start on a bucket in this state.
    /// - Returns: whether the replica must start afresh (the bucket was replaced).
    mutating func watcherStarting(_ bucket: StreamState, highestRevisionBefore: UInt64) -> Bool {
        recreatePending = false
        watcherLive = false
        stall = nil
        defer { bucketCreated = bucket.created }
        guard let known = bucketCreated else { return bucket.lastSequence < highestRevisionBefore }
        return known != bucket.created || bucket.lastSequence < highestRevisionBefore
    }

    /// The feed is stopping: nothing is reported any more.
    mutating func stop() {
        stopped = true
    }
}
