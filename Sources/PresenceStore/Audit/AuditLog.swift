import Logging
import NATSClient
import NIOConcurrencyHelpers
import PresenceCore

/// The node's end of the audit stream `presence-audit` (SPEC §3c): gathers an entry for each
/// accepted change without the write waiting for it, sends them in batches, and reads them back.
///
/// Entries wait at most ``batchInterval`` and go out as one message per shard of users
/// (``AuditBatch``): the stream stores (and fsyncs) a few messages per interval instead of one
/// per change. A message is sent again after a failure (an election, a center restarting)
/// for up to `presence.write_failover_wait`, with a `Nats-Msg-Id` of its own so the stream
/// keeps one copy; after that its entries are gaps, counted (`presence_audit_gaps_total`) and
/// logged. At most ``maxWaiting`` entries wait or are being sent: beyond that (a hub that
/// hangs) entries are gaps at once instead of piling up. A graceful stop sends what waits
/// (``flush()``); a node that dies loses the entries of its last interval, uncounted.
final class AuditLog: Sendable {
    /// The longest an entry waits for its batch.
    static let batchInterval: Duration = .milliseconds(100)
    /// The most entries of one shard in one batch: a full batch goes out at once.
    static let maxBatch = 256
    /// The largest message sent (NATS refuses payloads over 1 MiB by default).
    static let maxMessageBytes = 512 * 1024
    /// Entries waiting or being sent, at most.
    static let maxWaiting = 4096

    let configuration: PresenceStoreConfiguration
    let metrics: StoreMetrics
    let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// The start of this process's message ids: the node, and a random number per start.
    private let messageIDPrefix: String

    private struct State {
        var batcher = AuditBatcher(interval: AuditLog.batchInterval, maxEntries: AuditLog.maxBatch)
        /// The JetStream of the last append: where the next batch goes.
        var jetStream: JetStream?
        /// Whether a task waits to send the gathered entries when they fall due.
        var timerRunning = false
        /// Entries gathered or being sent.
        var waiting = 0
        var lastMessage: UInt64 = 0
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
        let (accepted, full, startTimer) = state.withLockedValue { state -> (Bool, Bool, Bool) in
            guard state.waiting < Self.maxWaiting else { return (false, false, false) }
            state.waiting += 1
            state.jetStream = jetStream
            let full = state.batcher.add(entry, now: .now)
            defer { state.timerRunning = true }
            return (true, full, !state.timerRunning)
        }
        guard accepted else {
            gap(1, users: [entry.user], "too many audit entries wait for the stream")
            return
        }
        if full { Task { await self.sendWaiting(endingTimer: false) } }
        if startTimer {
            Task {
                try? await Task.sleep(for: Self.batchInterval)
                await self.sendWaiting(endingTimer: true)
            }
        }
    }

    /// Sends every entry that waits now, and waits until every batch sent so far is stored or
    /// given up (at most the retry deadline and a second): for a graceful stop.
    func flush() async {
        await sendWaiting(endingTimer: false)
        let deadline = ContinuousClock.now + configuration.unavailableRetryDeadline + .seconds(1)
        while state.withLockedValue({ $0.waiting > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends the entries gathered so far, one message per shard (or more when large), at once.
    private func sendWaiting(endingTimer: Bool) async {
        let (batches, jetStream, firstID) = state.withLockedValue { state -> ([AuditBatch], JetStream?, UInt64) in
            if endingTimer { state.timerRunning = false }
            let batches = state.batcher.take()
            return (batches, state.jetStream, state.lastMessage + 1)
        }
        guard !batches.isEmpty, let jetStream else { return }
        var messages: [(subject: String, payload: [UInt8], entries: Int, users: [UserID])] = []
        for batch in batches {
            var offset = 0
            for message in batch.encoded(maxBytes: Self.maxMessageBytes) {
                let users = batch.entries[offset..<offset + message.entries].prefix(3).map(\.user)
                messages.append((AuditStream.subject(ofShard: batch.shard), message.payload, message.entries, users))
                offset += message.entries
            }
        }
        state.withLockedValue { $0.lastMessage = firstID + UInt64(messages.count) - 1 }
        await withTaskGroup(of: Void.self) { group in
            for (index, message) in messages.enumerated() {
                let id = messageIDPrefix + String(firstID + UInt64(index))
                group.addTask {
                    let stored = await self.send(message.payload, on: message.subject, id: id, via: jetStream)
                    if let failure = stored {
                        self.gap(message.entries, users: message.users, failure)
                    } else {
                        self.metrics.auditAppended.increment(by: Int64(message.entries))
                    }
                    self.state.withLockedValue { $0.waiting -= message.entries }
                }
            }
        }
    }

    /// Sends one message, again after a failure for as long as
    /// ``PresenceStoreConfiguration/unavailableRetryDeadline`` allows.
    /// - Returns: nil once stored, else why it was given up.
    private func send(_ payload: [UInt8], on subject: String, id: String, via jetStream: JetStream) async -> String? {
        let deadline = ContinuousClock.now + configuration.unavailableRetryDeadline
        var pause = Duration.milliseconds(100)
        while true {
            do {
                _ = try await jetStream.publish(subject, payload: payload, messageID: id)
                return nil
            } catch {
                guard ContinuousClock.now + pause < deadline, !Task.isCancelled else { return "\(error)" }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
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
