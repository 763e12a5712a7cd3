import PresenceCore

/// The body of `GET /health/info` (SPEC §6), written by ``json``.
public struct NodeInfo: Sendable {
    /// The NATS side of the node.
    public struct NATS: Sendable {
        public var connected: Bool
        public var serverURL: String?
        public var reconnects: UInt64
        public var hubReachable: Bool

        public init(connected: Bool, serverURL: String?, reconnects: UInt64, hubReachable: Bool) {
            self.connected = connected
            self.serverURL = serverURL
            self.reconnects = reconnects
            self.hubReachable = hubReachable
        }
    }

    /// The replica's counters.
    public struct Cache: Sendable {
        public var entries: Int
        public var costBytes: Int
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var hitRatio: Double

        public init(_ statistics: CacheStatistics) {
            entries = statistics.entries
            costBytes = statistics.costBytes
            hits = statistics.hits
            misses = statistics.misses
            evictions = statistics.evictions
            hitRatio = statistics.hitRatio
        }
    }

    /// A leaf connected to a center.
    public struct Leafnode: Sendable {
        public var name: String
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    /// A clustered center's NATS cluster and the bucket's copies in it (SPEC §6).
    public struct Cluster: Sendable {
        /// Another center of the cluster and whether this one has a route to it.
        public struct Peer: Sendable {
            public var name: String
            public var connected: Bool

            public init(name: String, connected: Bool) {
                self.name = name
                self.connected = connected
            }
        }

        /// A copy of the bucket on a center other than its leader.
        public struct Replica: Sendable {
            public var name: String
            /// Whether it holds every write the leader holds.
            public var current: Bool
            /// Writes it is behind the leader.
            public var lag: UInt64

            public init(name: String, current: Bool, lag: UInt64) {
                self.name = name
                self.current = current
                self.lag = lag
            }
        }

        public var name: String
        public var peers: [Peer]
        /// The center that leads the bucket (takes its writes); nil while none is elected.
        public var leader: String?
        /// How many copies the bucket keeps.
        public var bucketReplicas: Int
        public var replicas: [Replica]

        public init(name: String, peers: [Peer], leader: String?, bucketReplicas: Int, replicas: [Replica]) {
            self.name = name
            self.peers = peers
            self.leader = leader
            self.bucketReplicas = bucketReplicas
            self.replicas = replicas
        }
    }

    public var nodeID: String
    public var role: String
    public var version: String
    public var uptimeSeconds: Int
    public var nats: NATS
    public var cache: Cache
    public var presenceCount: Int
    public var leafnodes: [Leafnode]?
    /// Set on a clustered center only.
    public var cluster: Cluster?

    public init(
        nodeID: String, role: String, version: String, uptimeSeconds: Int, nats: NATS, cache: Cache,
        presenceCount: Int, leafnodes: [Leafnode]?, cluster: Cluster? = nil
    ) {
        self.cluster = cluster
        self.nodeID = nodeID
        self.role = role
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.nats = nats
        self.cache = cache
        self.presenceCount = presenceCount
        self.leafnodes = leafnodes
    }
}
