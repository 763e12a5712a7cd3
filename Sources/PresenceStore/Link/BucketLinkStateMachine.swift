import NATSClient

/// The rules of a node's link to its bucket, as one value: binding (connecting, retrying),
/// the watcher that keeps the replica current, whether the bucket's JetStream server (the
/// hub, for a leaf) answers, whether the bucket is still the one the replica mirrors, and
/// whether JetStream refuses writes for lack of storage. Readiness and its reason come from
/// this one state.
///
/// Events go in as `mutating` functions, each returning what ``BucketLink`` must do (log,
/// stop a watcher, retry after a pause); the service carries that out outside its lock. No
/// I/O and no clock of its own (time comes in with the events), so every transition is
/// unit-tested. Generic over the link and the watcher so tests need no NATS.
///
/// The states: ``State/connecting(_:)`` until the bucket is bound once (nats.c reconnects
/// the bound connection by itself, so a link never goes back), then ``State/bound(_:)``
/// whose watcher is starting, loading its initial values, or live; ``State/stopped(_:)``
/// at the end. The rules of a bound link:
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
struct BucketLinkStateMachine<Link: Sendable, Watcher: Sendable>: Sendable {
    /// Where the link is.
    enum State: Sendable {
        /// Not bound yet.
        case connecting(Connecting)
        /// Bound: the connection and the bucket exist (the connection may be down a while).
        case bound(Bound)
        /// Stopped; the link bound before, if any, is still to be closed.
        case stopped(Link?)
    }

    /// The data of ``State/connecting(_:)``.
    struct Connecting: Sendable {
        /// Failed attempts to bind so far.
        var attempts = 0
        /// Why the last attempt failed (an operator's words).
        var failure: String?
    }

    /// The data of ``State/bound(_:)``.
    struct Bound: Sendable {
        var link: Link
        var watch: Watch = .starting(lastError: nil)
        /// The pause before the next try after a failed watcher set-up.
        var watcherRetry = BucketLinkStateMachine.firstWatcherRetry
        var hub = HubReachability()
        /// The NATS connection reported a loss and no reconnection since.
        var disconnected = false
        /// The creation time of the bucket's stream the replica mirrors, once a watcher started.
        var bucketCreated: Int64?
        /// A new watcher was asked for and has not started yet.
        var recreatePending = false
        /// The revision the watcher had delivered up to, and for how many probes in a row it
        /// did not move while the bucket was ahead of it.
        var stall: (delivered: UInt64, probes: Int)?
        /// The bucket's last revision when a stall last recreated the watcher.
        var recreatedForStallAt: UInt64?
        /// The bucket's state as the last probe (or the bind) found it.
        var bucketState: StreamState?
        /// When a center last tried to grow the bucket's replicas.
        var lastGrowAttempt: ContinuousClock.Instant?
        /// Whether JetStream refused writes for lack of storage lately.
        var storage = StorageRefusals()
    }

    /// The watcher of a bound link.
    enum Watch: Sendable {
        /// No watcher: one is being set up (or waits before the next try).
        case starting(lastError: String?)
        /// Set up; its initial values are being applied.
        case loading(Watcher)
        /// Its initial values are in; it applies every change.
        case live(Watcher)
    }

    /// Whether the bucket's JetStream server answers.
    struct HubReachability: Sendable, Equatable {
        /// Whether the hub answered the last probe (or was not yet found silent).
        var isReachable = true
        /// The hub was found gone ("no responders") since it last answered.
        var lost = false
        /// Probes in a row that got no answer in time.
        var slowAnswers = 0
    }

    /// Probes in a row that find a live watcher stalled before it is recreated (3 s at the
    /// store's 500 ms probe interval).
    static var stalledProbesBeforeRecreate: Int { 6 }
    /// Timed-out probes in a row that mark the hub unreachable.
    static var slowAnswersBeforeUnreachable: Int { 3 }
    /// The pause after the first failed bind; it doubles up to ``longestBindRetry``.
    static var firstBindRetry: Duration { .milliseconds(100) }
    static var longestBindRetry: Duration { .seconds(1) }
    /// The pause after the first failed watcher set-up; it doubles up to ``longestWatcherRetry``.
    static var firstWatcherRetry: Duration { .milliseconds(250) }
    static var longestWatcherRetry: Duration { .seconds(5) }
    /// How often a center retries growing the bucket's replicas while the cluster has too few servers.
    static var growRetryInterval: Duration { .seconds(5) }

    private(set) var state: State = .connecting(Connecting())
    /// Whether this node is a center (it owns the bucket: creates it, grows its replicas,
    /// waits for its cluster's leader); a leaf's hub is not its concern.
    let isCenter: Bool
    /// The name of this node's nats-server in its JetStream cluster (a center's node id), to
    /// find its own copy of the bucket in the cluster state.
    let serverName: String?

    init(isCenter: Bool, serverName: String? = nil) {
        self.isCenter = isCenter
        self.serverName = serverName
    }

    // MARK: Binding

    /// What to do after a failed attempt to bind.
    enum BindRetry: Sendable, Equatable {
        /// Try again after the pause; log the cause when it is new.
        case retry(after: Duration, logCause: Bool)
        /// The link stopped: give up.
        case giveUp
    }

    /// An attempt to bind failed for `cause`.
    mutating func bindFailed(cause: String) -> BindRetry {
        guard case .connecting(var connecting) = state else { return .giveUp }
        let changed = connecting.failure != cause
        connecting.failure = cause
        connecting.attempts += 1
        state = .connecting(connecting)
        let doublings = min(connecting.attempts - 1, 10)
        let pause = min(Self.firstBindRetry * (1 << doublings), Self.longestBindRetry)
        return .retry(after: pause, logCause: changed)
    }

    /// What to do with a link just bound.
    enum BindOutcome: Sendable, Equatable {
        /// Keep it: feed the replica, probe the hub.
        case run
        /// The link stopped meanwhile, or another attempt bound first: close this one.
        case stop
    }

    /// The bucket is bound through `link`; `bucketState` is its state at that moment.
    /// - Parameter grewAt: when a center tried to grow the bucket's replicas while binding.
    mutating func bound(_ link: Link, bucketState: StreamState, grewAt: ContinuousClock.Instant? = nil) -> BindOutcome {
        guard case .connecting = state else { return .stop }
        var bound = Bound(link: link)
        bound.bucketState = bucketState
        bound.lastGrowAttempt = grewAt
        state = .bound(bound)
        return .run
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    /// The bound link, nil before the bind and after the stop.
    var link: Link? {
        guard case .bound(let bound) = state else { return nil }
        return bound.link
    }

    /// The link is stopping: nothing is reported any more.
    /// - Returns: the watcher to stop, if one runs.
    mutating func stop() -> Watcher? {
        switch state {
        case .connecting:
            state = .stopped(nil)
            return nil
        case .bound(let bound):
            state = .stopped(bound.link)
            return bound.watch.watcher
        case .stopped:
            return nil
        }
    }

    /// Runs `body` on the bound link's data; nil (and nothing changes) when not bound.
    mutating func withBound<Result>(_ body: (inout Bound) -> Result) -> Result? {
        guard case .bound(var bound) = state else { return nil }
        // Leave no second reference to the payload while it changes.
        state = .stopped(nil)
        defer { state = .bound(bound) }
        return body(&bound)
    }
}

extension BucketLinkStateMachine.Watch {
    /// Why the last watcher failed or could not be set up, while none runs.
    var lastError: String? {
        if case .starting(let lastError) = self { return lastError }
        return nil
    }

    /// The watcher, once set up.
    var watcher: Watcher? {
        switch self {
        case .starting: return nil
        case .loading(let watcher), .live(let watcher): return watcher
        }
    }
}
