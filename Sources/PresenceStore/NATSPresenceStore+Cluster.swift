import Logging
import NATSClient
import PresenceCore

/// A center whose bucket JetStream replicates between several centers (a NATS cluster):
/// facts for `/health/info`, and the other buckets the centers share (the sweeper's lease).
extension NATSPresenceStore {
    /// The bucket's copies and its cluster group as the last probe found them (nil before
    /// the first answer); for `/health/info` and the metrics.
    public var bucketState: StreamState? { link.bucketState }

    /// Binds (or creates) another bucket through the store's connection, with the store's
    /// replicas; fails while the store is not bound.
    func auxiliaryBucket(named name: String) async throws -> KeyValueBucket {
        guard let connection = link.bound?.connection else {
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
        guard let bucket = link.bound?.bucket else {
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
