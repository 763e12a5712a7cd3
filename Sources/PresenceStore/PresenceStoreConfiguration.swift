import NATSClient

/// How a node reaches its presence bucket.
public struct PresenceStoreConfiguration: Sendable {
    /// NATS server URLs the node's client connects to.
    public var natsURLs: [String]
    /// JetStream domain of the bucket (`hub` from a leaf; nil on the center itself).
    public var domain: String?
    /// The bucket name.
    public var bucket: String = "presence"
    /// Bucket replicas when it is created.
    public var replicas: Int = 1
    /// This node's id, written into every record it accepts.
    public var nodeID: String
    /// How long a KV request may take before the client gets 503.
    public var requestTimeout: Duration = .seconds(2)
    /// How long setting up the KV watcher may take (seconds with a million keys).
    public var watcherSetupTimeout: Duration = .seconds(60)
    /// How often the store checks that the bucket's JetStream server (the hub) answers.
    public var hubProbeInterval: Duration = .milliseconds(500)
    /// How long one such check may take.
    public var hubProbeTimeout: Duration = .milliseconds(750)
    /// How long start-up keeps trying to reach the bucket.
    public var connectDeadline: Duration = .seconds(30)
    /// Replica memory bound in bytes.
    public var cacheMaxCost: Int = 64 << 20
    /// Seconds to remember a store miss once the replica is incomplete.
    public var negativeTTLSeconds: Int = 5
    /// Keep the replica's expiry schedule (the center, whose sweeper persists expiry).
    public var tracksExpiry = false
    /// Optional NATS credentials.
    public var user: String?
    public var password: String?
    public var token: String?

    /// A configuration with the defaults of SPEC §7.
    public init(natsURLs: [String], nodeID: String) {
        self.natsURLs = natsURLs
        self.nodeID = nodeID
    }
}
