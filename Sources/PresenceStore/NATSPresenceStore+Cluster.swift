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

extension NATSPresenceStore {
    /// Asks JetStream to move the leadership of the bucket (and of the audit stream) away from
    /// `serverName` where that server leads, then waits up to `timeout` until another server
    /// does (a graceful stop of a clustered center: writes meanwhile meet a short election,
    /// which ``apply(_:to:ifMatch:)`` retries, instead of losing their acknowledgement when the
    /// leader's nats-server stops).
    /// - Returns: whether another server leads the bucket now (true when `serverName` did not).
    public func handOverLeadership(from serverName: String, timeout: Duration) async -> Bool {
        guard configuration.replicas > 1, let connection = link.bound?.connection else { return true }
        async let audit = configuration.auditEnabled
            ? handOver(AuditStream.name, what: "the audit stream's", from: serverName, timeout: timeout, via: connection) : true
        let bucket = await handOver("KV_" + configuration.bucket, what: "the bucket's", from: serverName, timeout: timeout, via: connection)
        _ = await audit
        return bucket
    }

    /// One stream's leadership handover (see ``handOverLeadership(from:timeout:)``).
    private func handOver(
        _ stream: String, what: String, from serverName: String, timeout: Duration, via connection: NATSConnection
    ) async -> Bool {
        let api = configuration.domain.map { "$JS.\($0).API" } ?? "$JS.API"
        do {
            let js = try connection.jetStream(domain: configuration.domain, timeout: configuration.requestTimeout)
            guard try await js.streamState(stream, timeout: configuration.requestTimeout).cluster?.leader == serverName else {
                return true
            }
            _ = try await connection.request("\(api).STREAM.LEADER.STEPDOWN.\(stream)", timeout: configuration.requestTimeout)
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let leader = try? await js.streamState(stream, timeout: configuration.requestTimeout).cluster?.leader
                if let leader, leader != serverName {
                    logger.notice("handed \(what) leadership over", metadata: ["stream": "\(stream)", "leader": "\(leader)"])
                    return true
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            logger.warning("cannot hand \(what) leadership over before stopping", metadata: ["stream": "\(stream)", "error": "\(error)"])
        }
        return false
    }
}
