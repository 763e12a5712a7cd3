import NATSClient

/// The events of the watcher that keeps the replica current: starting one, its initial
/// values, its end.
extension BucketLinkStateMachine {
    /// A watcher is about to start on a bucket in this state (``BucketLink`` read it first).
    /// - Returns: whether the replica must start afresh (the bucket was replaced).
    mutating func watcherStarting(_ bucket: StreamState, highestRevisionBefore: UInt64) -> Bool {
        withBound { bound in
            bound.recreatePending = false
            bound.stall = nil
            bound.watch = .starting(lastError: bound.watch.lastError)
            defer { bound.bucketCreated = bucket.created }
            guard let known = bound.bucketCreated else { return bucket.lastSequence < highestRevisionBefore }
            return known != bucket.created || bucket.lastSequence < highestRevisionBefore
        } ?? false
    }

    /// Setting up a watcher failed.
    /// - Returns: how long to wait before the next try (it doubles each time).
    mutating func watcherFailedToStart(_ error: String) -> Duration {
        withBound { bound in
            bound.watch = .starting(lastError: error)
            let pause = bound.watcherRetry
            bound.watcherRetry = min(pause * 2, Self.longestWatcherRetry)
            return pause
        } ?? .zero
    }

    /// What to do with a watcher just set up.
    enum WatcherStart: Sendable, Equatable {
        /// Apply its events.
        case consume
        /// Stop it: another was asked for while it was set up (a reconnection), or the link
        /// stopped; the loop goes on (and ends, when stopped).
        case discard
    }

    /// A watcher is set up.
    mutating func watcherCreated(_ watcher: Watcher) -> WatcherStart {
        withBound { bound in
            bound.watcherRetry = Self.firstWatcherRetry
            guard !bound.recreatePending else {
                bound.watch = .starting(lastError: nil)
                return .discard
            }
            bound.watch = .loading(watcher)
            bound.stall = nil
            return .consume
        } ?? .discard
    }

    /// The watcher delivered its initial values: the replica is loaded.
    mutating func initialValuesLoaded() {
        withBound { bound in
            if case .loading(let watcher) = bound.watch { bound.watch = .live(watcher) }
        }
    }

    /// The watcher ended (stopped, or failed with `error`).
    mutating func watcherEnded(error: String?) {
        withBound { bound in bound.watch = .starting(lastError: error) }
    }

    /// Whether the watcher, idle for a while, goes on (no new one is wanted and the link runs).
    var watcherGoesOn: Bool {
        guard case .bound(let bound) = state else { return false }
        return !bound.recreatePending
    }
}
