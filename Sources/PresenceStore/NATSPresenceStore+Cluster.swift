import Logging
import NATSClient
import PresenceCore

/// A center whose bucket JetStream replicates between several centers (a NATS cluster):
/// growing the bucket's replicas, readiness while a leader is elected, facts for
/// `/health/info`, and the other buckets the centers share (the sweeper's lease).
extension NATSPresenceStore {
    /// How often a center retries growing the bucket while the cluster has too few servers.
    static let growRetryInterval = Duration.seconds(5)

    /// Raises the bucket's replicas to `nats.replicas` when it keeps fewer (a standalone
    /// center restarted as one of a cluster keeps its data: JetStream copies it to the new
    /// peers). Until enough centers are up this fails; the probe tries again every
    /// ``growRetryInterval``. Never lowers them.
    /// - Parameter bucketReplicas: what the last probe found; nil: not known yet.
    func growReplicasIfNeeded(_ bucket: KeyValueBucket, bucketReplicas: Int?) async {
        let wanted = configuration.replicas
        if let bucketReplicas, bucketReplicas >= wanted { return }
        let now = ContinuousClock.now
        let due = state.withLockedValue { state -> Bool in
            if let last = state.lastGrowAttempt, now - last < Self.growRetryInterval { return false }
            state.lastGrowAttempt = now
            return true
        }
        guard due else { return }
        do {
            if try await bucket.growReplicas(to: wanted) {
                logger.notice("the presence bucket now keeps more copies", metadata: ["replicas": "\(wanted)"])
            }
        } catch {
            logger.warning(
                "cannot give the presence bucket its replicas yet (are enough centers up?); retrying",
                metadata: ["replicas": "\(wanted)", "error": "\(error)"])
        }
    }

    /// Ready as far as the cluster goes: the bucket's group has a leader.
    func clusterReadiness() -> Readiness {
        guard configuration.domain == nil, let cluster = state.withLockedValue({ $0.bucketState?.cluster }) else {
            return .ready  // a leaf (its hub's cluster is not its concern), or a center not clustered
        }
        guard cluster.leader != nil else {
            return .notReady("the presence bucket has no leader: its JetStream cluster is electing one (are most centers up?)")
        }
        return .ready
    }

    /// The bucket's copies and its cluster group as the last probe found them (nil before
    /// the first answer); for `/health/info` and the metrics.
    public var bucketState: StreamState? { state.withLockedValue { $0.bucketState } }

    /// Binds (or creates) another bucket through the store's connection, with the store's
    /// replicas; fails while the store is not bound.
    func auxiliaryBucket(named name: String) async throws -> KeyValueBucket {
        guard let connection = state.withLockedValue({ $0.link?.connection }) else {
            throw PresenceError(.unavailable, "the presence store is not bound yet")
        }
        let js = try connection.jetStream(domain: configuration.domain, timeout: configuration.requestTimeout)
        var bucketConfiguration = KeyValueConfiguration(bucket: name)
        bucketConfiguration.replicas = configuration.replicas
        return try await js.keyValue(bucketConfiguration)
    }

    /// Stores `value` under `key` unless the bucket has a value there already (migrating a
    /// standalone store: what the cluster holds is newer).
    /// - Returns: whether it was written.
    public func createIfAbsent(key: String, value: [UInt8]) async throws -> Bool {
        guard let bucket = state.withLockedValue({ $0.link?.bucket }) else {
            throw PresenceError(.unavailable, "the presence store is not bound yet")
        }
        do throws(NATSError) {
            _ = try await bucket.put(key, value: value, expecting: .noValue)
            return true
        } catch {
            if error.isWrongLastSequence { return false }
            throw error
        }
    }
}
