/// Where a stream stands: enough to tell that it was recreated (another creation time) or
/// restored from an older copy (a last sequence below one already seen), and, in a JetStream
/// cluster, who leads it and how far behind each other copy is.
public struct StreamState: Sendable, Equatable {
    /// When the stream was created, in nanoseconds since 1970 (UTC).
    public var created: Int64
    /// The sequence of the oldest message held.
    public var firstSequence: UInt64
    /// The sequence of the newest message ever stored (a KV revision).
    public var lastSequence: UInt64
    /// How many copies the stream is configured to keep.
    public var replicas: Int = 1
    /// The stream's group as JetStream reports it (a standalone server may report itself as
    /// the leader); nil when it reports none.
    public var cluster: StreamClusterState?

    public init(created: Int64, firstSequence: UInt64, lastSequence: UInt64) {
        self.created = created
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }
}

/// A replicated stream's group as its JetStream cluster reports it.
public struct StreamClusterState: Sendable, Equatable {
    /// The NATS cluster's name.
    public var name: String
    /// The server that leads the stream (takes its writes); nil while none is elected.
    public var leader: String?
    /// The other copies (the leader is not among them).
    public var replicas: [Peer]

    /// One copy of the stream on another server.
    public struct Peer: Sendable, Equatable {
        /// The server's name (a center's node id).
        public var name: String
        /// Whether it has every message the leader has.
        public var current: Bool
        /// Whether the leader cannot reach it.
        public var offline: Bool
        /// Messages it is behind the leader.
        public var lag: UInt64
        /// Seconds since the leader last heard from it.
        public var activeSeconds: Double

        public init(name: String, current: Bool, offline: Bool, lag: UInt64, activeSeconds: Double) {
            self.name = name
            self.current = current
            self.offline = offline
            self.lag = lag
            self.activeSeconds = activeSeconds
        }
    }

    public init(name: String, leader: String?, replicas: [Peer]) {
        self.name = name
        self.leader = leader
        self.replicas = replicas
    }
}
