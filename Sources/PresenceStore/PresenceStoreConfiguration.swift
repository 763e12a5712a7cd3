import NATSClient
import Tracing

/// How a node reaches its presence bucket.
public struct PresenceStoreConfiguration: Sendable {
    /// NATS server URLs the node's client connects to.
    public var natsURLs: [String]
    /// JetStream domain of the bucket (`hub` from a leaf; nil on the center itself).
    public var domain: String?
    /// The bucket name.
    public var bucket: String = "presence"
    /// Bucket replicas when it is created (`nats.replicas`).
    public var replicas: Int
    /// This node's id, written into every record it accepts.
    public var nodeID: String
    /// How long a KV request may take before the client gets 503.
    public var requestTimeout: Duration = .seconds(2)
    /// How long setting up the KV watcher may take (seconds with a million keys on
    /// nats-server 2.9; also how long a lost answer holds the replica back).
    public var watcherSetupTimeout: Duration = .seconds(10)
    /// How often the store checks that the bucket's JetStream server (the hub) answers.
    public var hubProbeInterval: Duration = .milliseconds(500)
    /// How long one such check may take.
    public var hubProbeTimeout: Duration = .milliseconds(750)
    /// How long ``NATSPresenceStore/connect(configuration:logger:changes:metrics:clock:)``
    /// keeps trying to reach the bucket (a store run as a service keeps trying for ever).
    public var connectDeadline: Duration = .seconds(30)
    /// How long a write without `If-Match` keeps retrying after losing races to other writers.
    public var writeRetryDeadline: Duration = .seconds(5)
    /// How long a change that certainly was not applied because the bucket could not be
    /// reached (a leaf's hub connection moving to another center, a leader election during a
    /// rolling restart) is tried again inside the node before the client gets 503; zero
    /// answers 503 at once.
    public var unavailableRetryDeadline: Duration = .seconds(10)
    /// `presence.max_sessions`: sessions a user may have; a new one past it ends the least recently updated.
    public var maxSessions: Int
    /// `presence.durable_heartbeats`: store every heartbeat in the bucket as v0.2 did, instead
    /// of sending it on the heartbeat plane (for a rolling upgrade from v0.2, SPEC §3a).
    public var durableHeartbeats = false
    /// Whether accepted changes are appended to the audit stream (`audit.enabled`).
    public var auditEnabled = true
    /// How long the audit stream keeps an entry (`audit.retention`); centers apply it.
    public var auditRetention: Duration = .seconds(30 * 86_400)
    /// Whether the audit keeps the message of a user invisible after the change
    /// (`audit.invisible_messages`).
    public var auditKeepsInvisibleMessages = false
    /// Why the hub cannot be reached, as the leaf's own nats-server reports it (connection
    /// refused, credential refused, TLS failure); nil when it reports nothing.
    public var hubProblem: (@Sendable () -> String?)?
    /// Why the store cannot take writes for lack of space (the center's data directory is
    /// full); nil when it can. Writes then fail at once with 507 and the node is not ready.
    public var storageProblem: (@Sendable () -> String?)?
    /// Work the node must finish before it is ready, beyond the store's own (records of a
    /// standalone store still to be written); nil when there is none.
    public var pendingWork: (@Sendable () -> String?)?
    /// Replica memory bound in bytes (`cache.max_cost`).
    public var cacheMaxCost: Int
    /// Seconds to remember a store miss once the replica is incomplete (`cache.negative_ttl`).
    public var negativeTTLSeconds: Int
    /// Optional NATS credentials.
    public var user: String?
    public var password: String?
    public var token: String?
    /// The tracer of writes (and, on a center, of the traced writes that reach it); nil: no
    /// tracing, nothing is created per write.
    public var tracer: (any Tracer)?
    /// The prefix of the connection's inboxes; nil: `_INBOX` (see ``NATSConnectionOptions/inboxPrefix``).
    public var inboxPrefix: String?

    /// A configuration with the values of the node's configuration keys; the rest (bucket,
    /// time-outs) are fixed.
    public init(
        natsURLs: [String], nodeID: String, replicas: Int, cacheMaxCost: Int, negativeTTLSeconds: Int, maxSessions: Int
    ) {
        self.natsURLs = natsURLs
        self.maxSessions = maxSessions
        self.nodeID = nodeID
        self.replicas = replicas
        self.cacheMaxCost = cacheMaxCost
        self.negativeTTLSeconds = negativeTTLSeconds
    }
}

extension PresenceStoreConfiguration {
    /// The options of the node's NATS connection.
    var connectionOptions: NATSConnectionOptions {
        var options = NATSConnectionOptions(urls: natsURLs, name: nodeID)
        options.user = user
        options.password = password
        options.token = token
        options.inboxPrefix = inboxPrefix
        return options
    }

    /// The bucket as the node binds it: with its replicas, created only by a center (a leaf
    /// never creates it: its centers do, with their replicas).
    var bucketConfiguration: KeyValueConfiguration {
        var configuration = KeyValueConfiguration(bucket: bucket)
        configuration.replicas = replicas
        configuration.createIfMissing = domain == nil
        return configuration
    }
}
