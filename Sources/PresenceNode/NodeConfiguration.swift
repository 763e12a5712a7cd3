import Foundation
import Logging

/// Everything a node is configured with; `init()` holds every default of SPEC §7.
public struct NodeConfiguration: Sendable, Equatable {
    /// Center (owns the bucket) or leaf (serves a region).
    public enum Role: String, Sendable, Equatable {
        case center, leaf
    }

    public var nodeID: String = ProcessInfo.processInfo.hostName
    public var role: Role = .center
    public var httpHost: String = "0.0.0.0"
    /// 0: a port the OS assigns; the node logs it (`http_port` of "HTTP server listening").
    public var httpPort: Int = 8080
    /// Seconds a client has to send a request head (`service.http.header_timeout`).
    public var httpHeaderTimeout: Double = 10
    /// Seconds an idle keep-alive connection is kept (`service.http.idle_timeout`).
    public var httpIdleTimeout: Double = 60

    public var natsEmbedded = true
    public var natsServerBinary = "nats-server"
    public var dataDirectory = "./data"
    /// The embedded nats-server's client port (`nats.client_port`); 0: one the OS assigns
    /// at start, kept across its restarts, logged with "nats-server started".
    public var natsClientPort = 4222
    /// A center's leafnode port (`nats.leafnode_port`); 0 as for the client port.
    public var natsLeafnodePort = 7422
    /// Where a center's leafnode port listens (`nats.leafnode_host`): loopback unless leaves
    /// authenticate (SPEC §5).
    public var natsLeafnodeHost = "127.0.0.1"
    public var natsMonitorPort = 0
    public var hubURLs: [String] = []
    public var natsURL = "nats://127.0.0.1:4222"
    public var replicas = 1
    public var natsUser: String?
    public var natsPassword: String?
    public var natsToken: String?
    /// Shared credential of leaf connections (`nats.leaf_user`, `nats.leaf_password`): the
    /// center requires it, leaves present it.
    public var leafUser: String?
    public var leafPassword: String?
    /// TLS of leaf connections (`nats.leaf_tls.cert_file`, `key_file`, `ca_file`).
    public var leafTLSCertFile: String?
    public var leafTLSKeyFile: String?
    public var leafTLSCAFile: String?

    public var cacheMaxCost = 67_108_864
    public var cacheNumCounters = 1_000_000
    public var cacheNegativeTTL = 5

    public var defaultTTL = 300
    public var retention = 2_592_000
    /// Seconds between expiry sweeps on the center (`presence.sweep_interval`).
    public var sweepInterval: Double = 1
    /// Most records persisted offline per sweep (`presence.sweep_batch`).
    public var sweepBatch = 1000

    /// Most concurrent SSE streams on this node (`stream.max_streams`); past it, 503.
    public var maxStreams = 10_000
    /// Events a stream may have queued before it is cut off as a slow consumer (`stream.queue_size`).
    public var streamQueueSize = 256
    /// Seconds between `: keepalive` comments (`stream.keepalive`).
    public var streamKeepalive: Double = 15
    /// Bytes one stream may hold for its client (events queued, and bytes its connection has
    /// not sent yet) before it is cut off as a slow consumer (`stream.max_buffered_bytes`).
    public var streamMaxBufferedBytes = 262_144
    /// Bytes all streams together may hold (`stream.max_total_buffered_bytes`); past it, the
    /// streams that are behind are cut off when they would grow.
    public var streamMaxTotalBufferedBytes = 67_108_864

    public var jwtSecret: String?
    public var publicKeyFile: String?
    public var issuer = ""
    public var audience = ""
    public var publicReads = true
    public var leewaySeconds = 5

    public var writesPerSecond: Double = 10
    public var writeBurst = 20
    public var readsPerSecond: Double = 0
    public var readBurst = 100

    public var logLevel: Logger.Level = .info
    /// `logfmt` (default) or `json` (`log_format`).
    public var logFormat: StructuredLogHandler.Format = .logfmt

    /// Development mode (`--dev`): a generated secret is used when none is configured.
    public var developmentMode = false

    /// `PRESENCE_*` environment variables that name no key and were ignored (sorted); the
    /// node logs them once at start.
    public var ignoredEnvironmentVariables: [String] = []

    /// The defaults.
    public init() {}
}
