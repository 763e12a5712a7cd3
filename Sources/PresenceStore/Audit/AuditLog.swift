import Logging
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore

/// The node's end of the audit stream `presence-audit` (SPEC §3c): gathers an entry for each
/// accepted change without the write waiting for it, sends them in batches, and reads them back.
///
/// Entries wait at most ``batchInterval`` and go out as one message per shard of users
/// (``AuditBatch``): the stream stores (and fsyncs) a few messages per interval instead of one
/// per change. One sender at a time sends them, each shard's messages one after the other, so
/// the stream keeps one node's entries of a user in the order they were made. A message is
/// sent again after a failure (an election, a center restarting) for up to
/// `presence.write_failover_wait`, with a `Nats-Msg-Id` of its own so the stream keeps one
/// copy; after that its entries are gaps, counted (`presence_audit_gaps_total`) and logged.
/// At most ``maxWaiting`` entries wait or are being sent: beyond that (a hub that hangs)
/// entries are gaps at once instead of piling up. A graceful stop sends what waits for up to
/// ``flushDeadline`` (``flush()``), and counts what is still not stored then as gaps; a node
/// that dies loses the entries of its last interval, uncounted.
final class AuditLog: Sendable {
    /// The longest an entry waits for its batch.
    static let batchInterval: Duration = .milliseconds(100)
    /// The most entries of one shard in one batch: a full batch goes out at once.
    static let maxBatch = 256
    /// The largest message sent (NATS refuses payloads over 1 MiB by default).
    static let maxMessageBytes = 512 * 1024
    /// Entries waiting or being sent, at most.
    static let maxWaiting = 4096
    /// The longest a graceful stop waits for the entries to be stored: well inside the 10 s
    /// the node's whole stop may take.
    static let flushDeadline: Duration = .seconds(3)

    let configuration: PresenceStoreConfiguration
    let metrics: StoreMetrics
    let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// The start of this process's message ids: the node, and a random number per start.
    private let messageIDPrefix: String

    /// One message for the stream.
    private struct Outgoing: Sendable {
        var shard: Int
        var payload: [UInt8]
        var entries: Int
        /// The first few users, for the log when it is lost.
        var users: [UserID]
        var id: String
        var jetStream: JetStream
    }

    private struct State {
        var batcher = AuditBatcher(interval: AuditLog.batchInterval, maxEntries: AuditLog.maxBatch)
        /// The JetStream of the last append: where the next batch goes.
        var jetStream: JetStream?
        /// Whether a task waits to send the gathered entries when they fall due.
        var timerRunning = false
        /// Messages made of taken batches, in order, for the sender.
        var outbox: [Outgoing] = []
        /// Whether the sender runs.
        var sending = false
        /// Entries gathered, in the outbox or being sent.
        var waiting = 0
        var lastMessage: UInt64 = 0
        /// The stop's flush is over: what is appended or stored from now on is not counted.
        var stopped = false
    }

    init(configuration: PresenceStoreConfiguration, metrics: StoreMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.state = NIOLockedValueBox(State())
        self.messageIDPrefix = configuration.nodeID + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + "-"
    }

    /// The stream as centers create it: replicated like the bucket, entries kept for
    /// `audit.retention`, append-only through the API.
    static func streamConfiguration(_ configuration: PresenceStoreConfiguration) -> StreamConfiguration {
        StreamConfiguration(
            name: AuditStream.name, subjects: [AuditStream.name + ".>"], replicas: configuration.replicas,
            maxAge: configuration.auditRetention, appendOnly: true)
    }

    /// Gathers the entry of `change` (nothing for a heartbeat) for the next batch through
    /// `jetStream`, without waiting.
    func append(
        _ change: PresenceChange, before: UserPresence?, after: StoredPresence, at now: Timestamp, via jetStream: JetStream
    ) {
        guard configuration.auditEnabled,
            let entry = AuditEntry(
                change: change, before: before, after: after.userPresence, actor: AuditActor.current,
                nodeID: configuration.nodeID, at: now, keepInvisibleMessages: configuration.auditKeepsInvisibleMessages)
        else { return }
        let (refusal, full, startTimer) = state.withLockedValue { state -> (String?, Bool, Bool) in
            if state.stopped { return ("the node is stopping", false, false) }
            guard state.waiting < Self.maxWaiting else { return ("too many audit entries wait for the stream", false, false) }
            state.waiting += 1
            state.jetStream = jetStream
            let full = state.batcher.add(entry)
            defer { state.timerRunning = true }
            return (nil, full, !state.timerRunning)
        }
        if let refusal {
            gap(1, users: [entry.user], refusal)
            return
        }
        if full { takeWaiting(endingTimer: false) }
        if startTimer {
            Task {
                try? await Task.sleep(for: Self.batchInterval)
                self.takeWaiting(endingTimer: true)
            }
        }
    }

    /// Sends every entry that waits now and waits until they are stored or given up, for at
    /// most ``flushDeadline``; what is not stored then is counted as gaps. For a graceful stop.
    func flush() async {
        takeWaiting(endingTimer: false)
        let deadline = ContinuousClock.now + Self.flushDeadline
        while state.withLockedValue({ $0.waiting > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let lost = state.withLockedValue { state -> Int in
            state.stopped = true
            defer { state.waiting = 0 }
            return state.waiting
        }
        if lost > 0 { gap(lost, users: [], "the node stopped before they were stored") }
    }

    /// Takes the entries gathered so far into the outbox, one message per shard (or more when
    /// large), and starts the sender unless it runs.
    private func takeWaiting(endingTimer: Bool) {
        let startSender = state.withLockedValue { state -> Bool in
            if endingTimer { state.timerRunning = false }
            let batches = state.batcher.take()
            guard !batches.isEmpty, let jetStream = state.jetStream else { return false }
            for batch in batches {
                var offset = 0
                for message in batch.encoded(maxBytes: Self.maxMessageBytes) {
                    state.lastMessage += 1
                    state.outbox.append(
                        Outgoing(
                            shard: batch.shard, payload: message.payload, entries: message.entries,
                            users: batch.entries[offset..<offset + message.entries].prefix(3).map(\.user),
                            id: messageIDPrefix + String(state.lastMessage), jetStream: jetStream))
                    offset += message.entries
                }
            }
            defer { state.sending = true }
            return !state.sending
        }
        if startSender { Task { await self.sendOutbox() } }
    }

    /// Sends the outbox until it is empty: the shards side by side, each shard's messages in order.
    private func sendOutbox() async {
        while true {
            let messages = state.withLockedValue { state -> [Outgoing] in
                defer { state.outbox = [] }
                if state.outbox.isEmpty { state.sending = false }
                return state.outbox
            }
            guard !messages.isEmpty else { return }
            await withTaskGroup(of: Void.self) { group in
                for shard in Set(messages.map(\.shard)) {
                    group.addTask {
                        for message in messages where message.shard == shard { await self.send(message) }
                    }
                }
            }
        }
    }

    /// Sends one message, again after a failure for as long as
    /// ``PresenceStoreConfiguration/unavailableRetryDeadline`` allows, and counts its entries.
    private func send(_ message: Outgoing) async {
        let deadline = ContinuousClock.now + configuration.unavailableRetryDeadline
        var pause = Duration.milliseconds(100)
        var failure: String?
        while true {
            do {
                _ = try await message.jetStream.publish(
                    AuditStream.subject(ofShard: message.shard), payload: message.payload, messageID: message.id)
                break
            } catch {
                guard ContinuousClock.now + pause < deadline, !state.withLockedValue({ $0.stopped }) else {
                    failure = "\(error)"
                    break
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
        let counted = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }  // the stop counted it already
            state.waiting -= message.entries
            return true
        }
        guard counted else { return }
        if let failure {
            gap(message.entries, users: message.users, failure)
        } else {
            metrics.auditAppended.increment(by: Int64(message.entries))
        }
    }

    /// Entries matching `query`, through `jetStream`.
    func read(_ query: AuditQuery, via jetStream: JetStream) async throws(PresenceError) -> AuditPage {
        do {
            return try await AuditStream.read(query, via: jetStream)
        } catch {
            logger.warning("audit read failed", metadata: ["error": "\(error)"])
            if error.isStreamNotFound {
                throw PresenceError(.unavailable, "the audit stream does not exist (yet): a center creates it at start", retryAfter: 1)
            }
            throw PresenceError(.unavailable, "the audit stream cannot be read now; try again shortly", retryAfter: 1)
        }
    }

    private func gap(_ count: Int, users: [UserID], _ cause: String) {
        metrics.auditGaps.increment(by: Int64(count))
        logger.warning(
            "audit entries were lost; the changes themselves are stored",
            metadata: ["entries": "\(count)", "users": "\(users.map(\.rawValue))", "error": "\(cause)"])
    }
}
