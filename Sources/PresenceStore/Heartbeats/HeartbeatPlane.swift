import Logging
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore

/// The heartbeat plane (SPEC §3a): heartbeats leave the durable path. A heartbeat this node
/// accepts is applied to its replica at once and queued; every ``batchInterval`` the queue
/// goes out as one ``HeartbeatBatch`` on core NATS (at most once, no storage), on a subject
/// every center and leaf subscribes to through the leafnode connections. Each node applies
/// the batches of the others to its replica, so a session's `updated_at`, `last_seen` and
/// expiry move everywhere within about a second without a new revision.
///
/// A node hears nothing before it subscribes, nor while its link to the hub is down: from
/// the moment it hears again it assumes every session alive (``PresenceReplica/assumeAlive(since:)``),
/// so it withholds expiry for one TTL instead of showing offline someone whose heartbeats it
/// did not hear. ``BucketLink`` owns the plane and tells it when that moment is.
final class HeartbeatPlane: Sendable {
    /// The longest a heartbeat waits for its batch.
    static let batchInterval: Duration = .milliseconds(200)
    /// The most heartbeats in one batch (about 40 bytes each: well under NATS's 1 MiB payload limit).
    static let maxBatch = 4_000
    /// How often the sender looks whether a batch is due.
    static let tick: Duration = .milliseconds(50)

    private let replica: PresenceReplica
    private let nodeID: String
    private let subject: String
    private let metrics: HeartbeatMetrics
    private let logger: Logger
    private let clock: @Sendable () -> Timestamp
    private let batcher: NIOLockedValueBox<HeartbeatBatcher>
    private let subscription = NIOLockedValueBox<NATSSubscription?>(nil)

    init(
        replica: PresenceReplica, nodeID: String, bucket: String, metrics: HeartbeatMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.replica = replica
        self.nodeID = nodeID
        self.subject = HeartbeatBatch.subject(bucket: bucket)
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.batcher = NIOLockedValueBox(HeartbeatBatcher(interval: Self.batchInterval, maxHeartbeats: Self.maxBatch))
    }

    /// Queues a heartbeat this node accepted (and applied to its replica) for the next batch.
    func enqueue(user: UserID, session: SessionID, at time: Timestamp) {
        let heartbeat = HeartbeatBatch.Heartbeat(user: user, session: session, time: time)
        _ = batcher.withLockedValue { $0.add(heartbeat, now: .now) }
        metrics.accepted.increment()
    }

    /// Subscribes on `connection`, and from then on assumes everyone alive until heard
    /// (``heardFromNow()``). Called before the replica loads: no record is ever judged on
    /// stored times alone. A failure is logged and tried again by ``send(on:)`` every second.
    func listen(on connection: NATSConnection) async {
        do {
            let subscription = try await connection.subscribe(subject) { [weak self] payload in
                self?.receive(payload)
            }
            self.subscription.withLockedValue { $0 = subscription }
            heardFromNow()
        } catch {
            logger.error("cannot subscribe to the heartbeat plane; retrying", metadata: ["error": "\(error)"])
        }
    }

    /// Sends the batches as they fall due until cancelled (sending what is left first), and
    /// subscribes again while the subscription failed; then ends the subscription.
    func send(on connection: NATSConnection) async {
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.tick)
            await sendIfDue(on: connection, force: Task.isCancelled)
            ticks += 1
            if ticks % 20 == 0, !isListening, !Task.isCancelled { await listen(on: connection) }
        }
        subscription.withLockedValue { $0 = nil }
    }

    /// Whether the node hears the plane (its subscription is in place).
    var isListening: Bool { subscription.withLockedValue { $0 != nil } }

    /// The node hears the plane from now on (subscribed, or its link to the hub is back).
    func heardFromNow() {
        replica.assumeAlive(since: clock())
    }

    /// Publishes the waiting batches when they are due (or `force`), each at most ``maxBatch``.
    private func sendIfDue(on connection: NATSConnection, force: Bool) async {
        while let batch = batcher.withLockedValue({ batcher -> HeartbeatBatch? in
            guard force || batcher.isDue(at: .now) else { return nil }
            return batcher.take(nodeID: nodeID)
        }) {
            do {
                try await connection.publish(subject, payload: batch.encoded())
                metrics.batchesSent.increment()
                metrics.batchSize.record(Double(batch.heartbeats.count))
            } catch {
                metrics.batchesFailed.increment()
                logger.warning(
                    "a heartbeat batch could not be sent",
                    metadata: ["heartbeats": "\(batch.heartbeats.count)", "error": "\(error)"])
            }
        }
    }

    /// A message on the subject (on a nats.c thread): another node's batch, applied to the replica.
    private func receive(_ payload: [UInt8]) {
        guard let decoded = HeartbeatBatch.decode(payload) else {
            metrics.batchesRefused.increment()
            return
        }
        let batch = decoded.batch
        guard batch.nodeID != nodeID else { return }  // this node's own, applied when accepted
        metrics.batchesReceived.increment()
        let now = clock()
        var applied = 0
        for heartbeat in batch.heartbeats {
            // A sender's clock ahead of ours never moves a session past our present.
            let time = min(heartbeat.time, now)
            metrics.lag.record(.milliseconds(max(0, now.millisecondsSinceEpoch - heartbeat.time.millisecondsSinceEpoch)))
            if replica.applyHeartbeat(user: heartbeat.user, session: heartbeat.session, at: time, nodeID: batch.nodeID) != nil {
                applied += 1
            }
        }
        metrics.applied.increment(by: Int64(applied))
        metrics.ignored.increment(by: Int64(batch.heartbeats.count - applied + decoded.skippedLines))
    }
}
