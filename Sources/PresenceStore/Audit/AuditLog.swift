import Logging
import NATSClient
import PresenceCore
import Synchronization

/// The node's end of the audit stream `presence-audit` (SPEC §3c): appends an entry for each
/// accepted change without the write waiting for it, and reads entries back.
///
/// An append is sent at once and its acknowledgement awaited in a task of its own, so a
/// slow or lost audit stream never slows or fails a presence write; an entry not sent,
/// refused or unacknowledged is a gap, counted (`presence_audit_gaps_total`) and logged.
/// At most ``maxInFlight`` appends wait for their acknowledgement: beyond that (a hub that
/// hangs) entries are counted as gaps at once instead of piling up tasks.
final class AuditLog: Sendable {
    /// Appends waiting for their acknowledgement, at most.
    static let maxInFlight = 4096

    let configuration: PresenceStoreConfiguration
    let metrics: StoreMetrics
    let logger: Logger
    private let inFlight = Atomic(0)

    init(configuration: PresenceStoreConfiguration, metrics: StoreMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// The stream as centers create it: replicated like the bucket, entries kept for
    /// `audit.retention`, append-only through the API.
    static func streamConfiguration(_ configuration: PresenceStoreConfiguration) -> StreamConfiguration {
        StreamConfiguration(
            name: AuditStream.name, subjects: [AuditStream.name + ".>"], replicas: configuration.replicas,
            maxAge: configuration.auditRetention, appendOnly: true)
    }

    /// Appends the entry of `change` (nothing for a heartbeat), through `jetStream`, without waiting.
    func append(
        _ change: PresenceChange, before: UserPresence?, after: StoredPresence, at now: Timestamp, via jetStream: JetStream
    ) {
        guard configuration.auditEnabled,
            let entry = AuditEntry(
                change: change, before: before, after: after.userPresence, actor: AuditActor.current,
                nodeID: configuration.nodeID, at: now, keepInvisibleMessages: configuration.auditKeepsInvisibleMessages)
        else { return }
        guard inFlight.add(1, ordering: .relaxed).newValue <= Self.maxInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            gap(entry, "too many audit entries wait for their acknowledgement")
            return
        }
        let subject = AuditStream.subject(of: entry.user)
        let payload = entry.encoded()
        // One id per stored revision: an append sent again after a lost answer is stored once.
        let messageID = subject + "@" + String(entry.revision)
        Task {
            defer { inFlight.subtract(1, ordering: .relaxed) }
            await send(payload, on: subject, id: messageID, of: entry, via: jetStream)
        }
    }

    /// Sends one entry, again after a failure (an election, a center restarting) for as long
    /// as ``PresenceStoreConfiguration/unavailableRetryDeadline`` allows; then it is a gap.
    private func send(_ payload: [UInt8], on subject: String, id: String, of entry: AuditEntry, via jetStream: JetStream) async {
        let deadline = ContinuousClock.now + configuration.unavailableRetryDeadline
        var pause = Duration.milliseconds(100)
        while true {
            do {
                _ = try await jetStream.publish(subject, payload: payload, messageID: id)
                metrics.auditAppended.increment()
                return
            } catch {
                guard ContinuousClock.now + pause < deadline, !Task.isCancelled else {
                    gap(entry, "\(error)")
                    return
                }
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

    private func gap(_ entry: AuditEntry, _ cause: String) {
        metrics.auditGaps.increment()
        logger.warning(
            "an audit entry was lost; the change itself is stored",
            metadata: ["user": "\(entry.user)", "revision": "\(entry.revision)", "change": "\(entry.change)", "error": "\(cause)"])
    }
}
