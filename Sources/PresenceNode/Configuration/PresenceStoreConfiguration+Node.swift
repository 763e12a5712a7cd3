import EmbeddedNATS
import PresenceStore

extension PresenceStoreConfiguration {
    /// How a node reaches its bucket, from its `service.node_id`, `service.role`, `nats.replicas`,
    /// `nats.url` and `nats.user`/`password`/`token` (without an embedded nats-server),
    /// `cache.*`, `presence.max_sessions` and `presence.durable_heartbeats`.
    /// - Parameters:
    ///   - supervisor: the embedded nats-server: the store connects to it with its client
    ///     credential, and a leaf's store reports the hub problems it sees.
    ///   - storage: the center's data directory watch.
    ///   - pendingWork: what the node must finish before it is ready.
    init(
        _ node: NodeConfiguration, supervisor: NATSServerSupervisor?, storage: StorageMonitor?,
        pendingWork: (@Sendable () -> String?)?
    ) {
        self.init(
            natsURLs: supervisor.map { [$0.clientURL] } ?? [node.natsURL], nodeID: node.nodeID, replicas: node.replicas,
            cacheMaxCost: node.cacheMaxCost, negativeTTLSeconds: node.cacheNegativeTTL, maxSessions: node.maxSessions)
        domain = node.role == .leaf ? "hub" : nil
        durableHeartbeats = node.durableHeartbeats
        unavailableRetryDeadline = .seconds(node.writeFailoverWait)
        auditEnabled = node.auditEnabled
        auditRetention = .seconds(node.auditRetention)
        auditKeepsInvisibleMessages = node.auditInvisibleMessages
        if let supervisor {
            user = supervisor.clientCredential?.user
            password = supervisor.clientCredential?.password
            inboxPrefix = supervisor.configuration.inboxPrefix
            if node.role == .leaf { hubProblem = { supervisor.leafnodeProblem } }
        } else {
            user = node.natsUser
            password = node.natsPassword
            token = node.natsToken
        }
        if let storage { storageProblem = { storage.problem } }
        self.pendingWork = pendingWork
    }
}
