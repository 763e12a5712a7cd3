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

    public var nodeID: String
    public var role: String
    public var version: String
    public var uptimeSeconds: Int
    public var nats: NATS
    public var cache: Cache
    public var presenceCount: Int
    public var leafnodes: [Leafnode]?

    public init(
        nodeID: String, role: String, version: String, uptimeSeconds: Int, nats: NATS, cache: Cache,
        presenceCount: Int, leafnodes: [Leafnode]?
    ) {
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
