/// What the embedded nats-server is asked to be.
public struct EmbeddedNATSConfiguration: Sendable, Equatable {
    /// The two shapes of embedded server.
    public enum Mode: Sendable, Equatable {
        /// Runs JetStream in domain ``EmbeddedNATSConfiguration/domain`` and accepts leaf nodes
        /// on `leafnodePort` (0: one the OS assigns at the first start, kept across restarts).
        case center(leafnodePort: Int)
        /// Runs no JetStream and connects to the center(s) as a leaf node.
        case leaf(hubURLs: [String])
    }

    /// The nats-server executable: a path, a name looked up on `PATH`, or
    /// ``NATSServerLocator/automatic`` (see ``NATSServerLocator``).
    public var serverBinary: String
    /// Server name shown in monitoring and to the other side of leaf connections.
    public var serverName: String
    /// Folder for the generated config, the pid file and (center) the JetStream store.
    public var dataDirectory: String
    /// Center or leaf.
    public var mode: Mode
    /// Port for clients; the client listener is on loopback only. 0: one the OS assigns at
    /// the first start, kept across restarts (``NATSServerSupervisor/clientPort`` tells it).
    public var clientPort: Int
    /// Monitoring port on loopback; 0: one the OS assigns at start.
    public var monitorPort: Int
    /// Address the leafnode listener binds to (center). Loopback unless leaves must present
    /// the leaf credential: the JetStream API behind this port writes presence without any JWT.
    public var leafnodeHost: String
    /// The JetStream domain of the center.
    public var domain: String = "hub"
    /// The KV bucket leaves may use (their permissions name it).
    public var bucket: String = "presence"
    /// The core NATS subject of the heartbeat plane, which leaves may publish and subscribe
    /// to (`HeartbeatBatch.subject(bucket:)`); nil allows none.
    public var heartbeatSubject: String?
    /// JetStream's file storage limit (center), in bytes: always written, because nats-server
    /// otherwise sizes it from the space free when it starts, and a restart on a nearly full
    /// disk then keeps a limit of a few hundred KB for ever (`nats.max_store`).
    public var maxStoreBytes: Int = EmbeddedNATSConfiguration.defaultMaxStoreBytes
    /// The default of ``maxStoreBytes``: 1 TiB, nats-server's own ceiling for its default.
    public static let defaultMaxStoreBytes = 1 << 40
    /// Shared credential for leaf connections: a user and password both sides know.
    public var leafUser: String?
    public var leafPassword: String?
    /// A center's further leaf credentials, one per leaf: each leaf user may only see replies
    /// on its own inbox prefix, so a leaf with its own credential cannot see another's.
    public var moreLeafCredentials: [NATSClientCredential] = []
    /// TLS for leaf connections, when set.
    public var leafTLS: TLSFiles?
    /// The NATS cluster a center's server joins (routes to the other centers); nil: standalone.
    public var cluster: Cluster?

    /// How a center's server joins a NATS cluster: JetStream then replicates the bucket
    /// between the centers (Raft per stream). Every center's server name must be unique.
    public struct Cluster: Sendable, Equatable {
        /// The cluster's name, the same on every center.
        public var name: String
        /// Where the route port listens: loopback unless routes authenticate.
        public var host: String
        /// The route port (not 0).
        public var port: Int
        /// Route URLs of the centers (`nats-route://host:port`); its own is recognised and skipped.
        public var routes: [String]
        /// Shared credential every route presents and requires.
        public var user: String?
        public var password: String?
        /// TLS of routes, verified both ways when a CA is set.
        public var tls: TLSFiles?

        public init(name: String, host: String, port: Int, routes: [String]) {
            self.name = name
            self.host = host
            self.port = port
            self.routes = routes
        }
    }

    /// PEM files for TLS.
    public struct TLSFiles: Sendable, Equatable {
        /// Certificate (center: the server certificate; leaf: an optional client certificate).
        public var certFile: String?
        /// Private key of `certFile`.
        public var keyFile: String?
        /// CA that signed the other side's certificate (center: verifies leaf client certificates).
        public var caFile: String?

        public init(certFile: String? = nil, keyFile: String? = nil, caFile: String? = nil) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.caFile = caFile
        }
    }

    /// The NATS account that holds the presence bucket on a center: its client user
    /// (``NATSClientCredential``) and its leaves are in it.
    public static let presenceAccount = "PRESENCE"
    /// The user a center gives leaves that present no credential (allowed only when no leaf
    /// credential is set, the leafnode port being then on loopback); it may only be a leaf.
    static let anonymousLeafUser = "presence-leaf-anonymous"

    /// The inbox prefix the presence connections to this (leaf) server must use: the only
    /// replies the center lets through to a leaf (``LeafPermissions``); nil on a center.
    public var inboxPrefix: String? {
        guard case .leaf = mode else { return nil }
        return LeafPermissions.inboxPrefix(leafUser: leafUser)
    }

    /// A configuration with the values of the node's configuration keys (`nats.*`); the
    /// domain and the bucket are fixed, and no leaf credential or TLS is set.
    public init(
        serverName: String, dataDirectory: String, mode: Mode, serverBinary: String, clientPort: Int, monitorPort: Int,
        leafnodeHost: String
    ) {
        self.serverName = serverName
        self.dataDirectory = dataDirectory
        self.mode = mode
        self.serverBinary = serverBinary
        self.clientPort = clientPort
        self.monitorPort = monitorPort
        self.leafnodeHost = leafnodeHost
    }

    /// Where the generated nats-server config is written.
    public var configFilePath: String { dataDirectory + "/nats-server.conf" }
    /// Where nats-server writes its pid.
    public var pidFilePath: String { dataDirectory + "/nats-server.pid" }
    /// The JetStream store folder (center).
    public var storeDirectory: String { dataDirectory + "/jetstream" }
}
