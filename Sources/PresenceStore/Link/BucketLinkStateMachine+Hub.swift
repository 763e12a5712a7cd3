import NATSClient

/// The events that say whether the hub answers and the bucket is still the replica's: probes,
/// requests that found nobody, the connection's losses and reconnections.
extension BucketLinkStateMachine {
    /// What ``BucketLink`` does after an event of the hub or the connection.
    enum Action: Sendable {
        case none
        /// Log that the hub does not answer; writes are refused from now on.
        case reportUnreachable(definitive: Bool)
        /// Log that the hub answers again; the watcher is kept.
        case reportAnswersAgain
        /// Log that the NATS connection is lost (once until it is back).
        case reportConnectionLost
        /// Stop the watcher (if one runs) so that a new one resynchronises the replica.
        case recreateWatcher(Recreation, stopping: Watcher?)
    }

    /// Why a watcher is recreated.
    enum Recreation: Sendable, Equatable {
        /// The hub is back after it was gone.
        case hubBack
        /// The bucket is not the one the replica mirrors (the new watcher rebuilds).
        case bucketReplaced(lastRevision: UInt64, highestSeen: UInt64)
        /// The connection is back.
        case reconnected
        /// The watcher delivers nothing while the bucket is ahead.
        case stalled(lastRevision: UInt64, delivered: UInt64)
    }

    /// Whether the hub answered the last probe (or was not yet found silent); true before the bind.
    var isHubReachable: Bool {
        guard case .bound(let bound) = state else { return true }
        return bound.hub.isReachable
    }

    /// Whether a heartbeat sent now reaches the other nodes (SPEC §3a): bound, connected,
    /// and on a leaf the hub answering (a center's slow JetStream does not stop core NATS).
    var carriesHeartbeats: Bool {
        guard case .bound(let bound) = state else { return false }
        return !bound.disconnected && (isCenter || bound.hub.isReachable)
    }

    /// A probe got the bucket's state.
    /// - Parameters:
    ///   - highestRevisionBefore: the replica's highest revision, read before the probe was
    ///     sent (0 when the replica was reset since).
    ///   - deliveredBefore: the highest revision the watcher delivered, read at the same time;
    ///     nil: not known (no stall is looked for).
    mutating func probeAnswered(_ bucket: StreamState, highestRevisionBefore: UInt64, deliveredBefore: UInt64? = nil)
        -> Action
    {
        withBound { bound in
            bound.bucketState = bucket
            let was = bound.hub
            bound.hub = HubReachability()
            if !bound.recreatePending, let known = bound.bucketCreated,
                known != bucket.created || bucket.lastSequence < highestRevisionBefore
            {
                return Self.recreate(
                    &bound, .bucketReplaced(lastRevision: bucket.lastSequence, highestSeen: highestRevisionBefore))
            }
            if was.lost { return Self.recreate(&bound, .hubBack) }
            if let deliveredBefore, let stalled = Self.checkStall(&bound, lastRevision: bucket.lastSequence, delivered: deliveredBefore) {
                return stalled
            }
            return was.isReachable ? .none : .reportAnswersAgain
        } ?? .none
    }

    /// A probe failed: no responders (the hub is gone), or no answer in time.
    mutating func probeFailed(noResponders: Bool) -> Action {
        withBound { bound in
            bound.hub.slowAnswers += 1
            guard noResponders || bound.hub.slowAnswers >= Self.slowAnswersBeforeUnreachable else { return .none }
            return Self.markUnreachable(&bound, definitive: noResponders)
        } ?? .none
    }

    /// A read or a write found nobody to answer it: the hub is gone.
    mutating func requestFoundNoResponders() -> Action {
        withBound { Self.markUnreachable(&$0, definitive: true) } ?? .none
    }

    /// The NATS connection was lost.
    mutating func connectionLost() -> Action {
        withBound { bound in
            guard !bound.disconnected else { return .none }
            bound.disconnected = true
            return .reportConnectionLost
        } ?? .none
    }

    /// The NATS connection is back.
    mutating func reconnected() -> Action {
        withBound { bound in
            bound.disconnected = false
            return Self.recreate(&bound, .reconnected)
        } ?? .none
    }

    private static func markUnreachable(_ bound: inout Bound, definitive: Bool) -> Action {
        if definitive { bound.hub.lost = true }
        guard bound.hub.isReachable else { return .none }
        bound.hub.isReachable = false
        return .reportUnreachable(definitive: definitive)
    }

    private static func recreate(_ bound: inout Bound, _ why: Recreation) -> Action {
        bound.recreatePending = true
        return .recreateWatcher(why, stopping: bound.watch.watcher)
    }

    private static func checkStall(_ bound: inout Bound, lastRevision: UInt64, delivered: UInt64) -> Action? {
        guard bound.watch.watcher != nil, !bound.recreatePending, lastRevision > delivered else {
            bound.stall = nil
            return nil
        }
        let probes = bound.stall?.delivered == delivered ? (bound.stall?.probes ?? 0) + 1 : 1
        bound.stall = (delivered, probes)
        guard probes >= stalledProbesBeforeRecreate else { return nil }
        guard bound.recreatedForStallAt != lastRevision else {
            // Already recreated for this revision (one no watcher delivers): start counting
            // again, so a later write needs a stall of its own, not one probe.
            bound.stall = (delivered, 0)
            return nil
        }
        bound.recreatedForStallAt = lastRevision
        bound.stall = nil
        return recreate(&bound, .stalled(lastRevision: lastRevision, delivered: delivered))
    }
}

extension BucketLinkStateMachine.Action: Equatable where Watcher: Equatable {}
