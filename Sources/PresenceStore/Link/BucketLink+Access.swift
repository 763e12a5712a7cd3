import NATSClient
import PresenceCore

/// What the repository asks of the link: a bucket to read or write, readiness, and the
/// outcomes its requests found (no responders, storage refused, stored).
extension BucketLink {
    /// The bucket, when a write can be sent at all; fails fast (certainly not applied) when
    /// the link is not bound, the hub is known to be unreachable or the storage is full.
    func writableBucket() throws(PresenceError) -> KeyValueBucket {
        if configuration.storageProblem?() != nil {
            throw PresenceError(.insufficientStorage, "the presence store is out of space; the write was not applied")
        }
        let (bucket, reachable) = machine.withLockedValue { ($0.link?.bucket, $0.isHubReachable) }
        guard let bucket else {
            throw PresenceError(.unavailable, "the presence store cannot be reached yet; the write was not applied", retryAfter: 1)
        }
        guard reachable else {
            throw PresenceError(
                .unavailable, "the presence store (hub) is not reachable; the write was not applied", retryAfter: 1)
        }
        return bucket
    }

    /// Fails fast (503) when a heartbeat accepted now would reach no other node: the link
    /// is not bound, the connection is down or the hub does not answer (SPEC §3a).
    func requireHeartbeatPlane() throws(PresenceError) {
        guard machine.withLockedValue({ $0.carriesHeartbeats }), plane.isListening else {
            throw PresenceError(
                .unavailable, "the other nodes cannot be reached (hub); the heartbeat was not applied", retryAfter: 1)
        }
    }

    /// The bucket for a read the replica cannot answer.
    func readableBucket() throws(PresenceError) -> KeyValueBucket {
        guard let bucket = bound?.bucket else {
            throw PresenceError(.unavailable, "the presence store cannot be reached yet; try again shortly", retryAfter: 1)
        }
        return bucket
    }

    /// A read or a write found nobody to answer it.
    func requestFoundNoResponders() {
        handle { $0.requestFoundNoResponders() }
    }

    /// A write was stored.
    func writeStored() {
        machine.withLockedValue { $0.writeStored() }
    }

    /// JetStream refused a write for lack of storage.
    func storageRefused() {
        machine.withLockedValue { $0.storageRefused(now: .now) }
    }

    /// Whether the link can serve: bound, connected, the hub answering, the replica loaded,
    /// the bucket led, storage taking writes.
    func readiness() -> Readiness {
        if let problem = configuration.storageProblem?() { return .notReady(problem) }
        // nats.c's status call takes its connection lock, which its reconnect loop holds for
        // seconds: ask it outside the machine's lock, which every write needs.
        let connected = bound?.connection.isConnected ?? true
        let notReady = machine.withLockedValue { $0.notReady(isConnected: connected) }
        guard let notReady else { return .ready }
        return .notReady(describe(notReady))
    }

    /// The bucket's copies and its cluster group as the last probe found them (nil before
    /// the bind); for `/health/info` and the metrics.
    var bucketState: StreamState? {
        machine.withLockedValue { machine in
            guard case .bound(let bound) = machine.state else { return nil }
            return bound.bucketState
        }
    }

    /// A reason in an operator's words.
    private func describe(_ notReady: Machine.NotReady) -> String {
        switch notReady {
        case .storageRefused:
            return StorageRefusals.problem
        case .connecting(let failure):
            if let problem = configuration.hubProblem?() { return "the hub is not reachable: \(problem)" }
            let target = configuration.natsURLs.joined(separator: ",")
            guard let failure else { return "connecting to NATS at \(target)" }
            return "cannot reach the presence bucket through NATS at \(target): \(failure)"
        case .disconnected:
            return "the NATS connection is down; reconnecting"
        case .hubUnreachable:
            let cause = configuration.hubProblem?() ?? "it does not answer"
            return "the hub (center) is not reachable: \(cause); reads are served from the last known state"
        case .notWatching(let lastError):
            return "the presence bucket is not reachable" + (lastError.map { ": \($0)" } ?? "")
        case .loading:
            return "the replica is loading the presence bucket"
        case .copyCatchingUp:
            return "this center's copy of the presence bucket is catching up with its leader (after a restart)"
        case .noLeader:
            return "the presence bucket has no leader: its JetStream cluster is electing one (are most centers up?)"
        case .stopped:
            return "the presence store is stopping"
        }
    }
}
