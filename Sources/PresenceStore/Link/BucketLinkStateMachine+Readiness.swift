import NATSClient

/// Readiness, read from the one state.
extension BucketLinkStateMachine {
    /// Why the link cannot serve, in the order they are checked (the first one found is the answer).
    enum NotReady: Sendable, Equatable {
        /// JetStream refused a write for lack of storage and has stored none since.
        case storageRefused
        /// Not bound yet; `failure`: why the last attempt failed.
        case connecting(failure: String?)
        /// The NATS connection is down (nats.c reconnects).
        case disconnected
        /// The hub does not answer the probes.
        case hubUnreachable
        /// No watcher runs; `lastError`: why the last one failed or could not be set up.
        case notWatching(lastError: String?)
        /// The watcher's initial values are being loaded.
        case loading
        /// A center's bucket has no leader: its cluster is electing one.
        case noLeader
        /// A clustered center's own copy of the bucket is not current yet (it is catching up
        /// after a restart): a rolling restart must not stop the next center before.
        case copyCatchingUp
        /// The link was stopped.
        case stopped
    }

    /// Why the link cannot serve, nil when it can.
    /// - Parameter isConnected: what the bound link's connection says, asked just before
    ///   (it knows before its event arrives; asking takes nats.c's lock, so not under ours).
    func notReady(isConnected: Bool) -> NotReady? {
        let bound: Bound
        switch state {
        case .connecting(let connecting): return .connecting(failure: connecting.failure)
        case .stopped: return .stopped
        case .bound(let value): bound = value
        }
        if bound.storage.isRefusing { return .storageRefused }
        guard isConnected else { return .disconnected }
        guard bound.hub.isReachable else { return .hubUnreachable }
        switch bound.watch {
        case .starting(let lastError): return .notWatching(lastError: lastError)
        case .loading: return .loading
        case .live: break
        }
        // A leaf's hub cluster is not its concern; nor is a center's that is not clustered.
        if isCenter, let cluster = bound.bucketState?.cluster {
            if cluster.leader == nil { return .noLeader }
            // The leader's view of its followers: this center's copy, when it is one, must be current.
            if let serverName, cluster.leader != serverName,
                let own = cluster.replicas.first(where: { $0.name == serverName }), !own.current || own.offline
            {
                return .copyCatchingUp
            }
        }
        return nil
    }
}
