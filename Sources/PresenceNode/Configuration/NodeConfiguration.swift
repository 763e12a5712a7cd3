import Foundation
import Logging

/// Everything a node is configured with. Each property is one key of ``ConfigurationKeys``
/// (named in its doc where the name is not obvious), whose default it starts with: the table
/// holds every default of SPEC §7, once.
public struct NodeConfiguration: Sendable, Equatable {
    private typealias K = ConfigurationKeys

    /// Center (owns the bucket) or leaf (serves a region).
    public enum Role: String, Sendable, Equatable {
        case center, leaf
    }

    public var nodeID: String = K.nodeID.defaultValue
    public var role: Role = K.role.defaultValue
    public var httpHost: String = K.httpHost.defaultValue
    /// 0: a port the OS assigns; the node logs it (`http_port` of "HTTP server listening").
    public var httpPort: Int = K.httpPort.defaultValue
    /// Seconds a client has to send a request head (`service.http.header_timeout`).
    public var httpHeaderTimeout: Double = K.httpHeaderTimeout.defaultValue
    /// Seconds an idle keep-alive connection is kept (`service.http.idle_timeout`).
    public var httpIdleTimeout: Double = K.httpIdleTimeout.defaultValue
    /// HTTP connections open at once (`service.http.max_connections`); 0: as many as the
    /// open-file limit allows (``ConnectionBudget``).
    public var httpMaxConnections: Int = K.httpMaxConnections.defaultValue
    /// HTTPS certificate chain and key (`service.http.tls.cert_file`, `key_file`): both or neither.
    public var httpTLSCertFile: String? = K.httpTLSCertFile.defaultValue
    public var httpTLSKeyFile: String? = K.httpTLSKeyFile.defaultValue
    /// Origins whose browser apps may call the API (`service.http.cors.allowed_origins`).
    public var corsAllowedOrigins: [String] = K.corsAllowedOrigins.defaultValue
    /// Connected sockets (`service.ws.*`, SPEC §3b).
    public var wsPingInterval: Int = K.wsPingInterval.defaultValue
    public var wsPongTimeout: Int = K.wsPongTimeout.defaultValue
    public var wsAuthTimeout: Int = K.wsAuthTimeout.defaultValue
    public var wsMaxConnections: Int = K.wsMaxConnections.defaultValue
    public var wsMaxSubscriptions: Int = K.wsMaxSubscriptions.defaultValue

    public var natsEmbedded: Bool = K.natsEmbedded.defaultValue
    public var natsServerBinary: String = K.natsServerBinary.defaultValue
    public var dataDirectory: String = K.dataDirectory.defaultValue
    /// The embedded nats-server's client port (`nats.client_port`); 0: one the OS assigns
    /// at start, kept across its restarts, logged with "nats-server started".
    public var natsClientPort: Int = K.natsClientPort.defaultValue
    /// A center's leafnode port (`nats.leafnode_port`); 0 as for the client port.
    public var natsLeafnodePort: Int = K.natsLeafnodePort.defaultValue
    /// Where a center's leafnode port listens (`nats.leafnode_host`): loopback unless leaves
    /// authenticate (SPEC §5).
    public var natsLeafnodeHost: String = K.natsLeafnodeHost.defaultValue
    public var natsMonitorPort: Int = K.natsMonitorPort.defaultValue
    public var hubURLs: [String] = K.hubURLs.defaultValue
    public var natsURL: String = K.natsURL.defaultValue
    /// JetStream's storage limit in bytes on a center (`nats.max_store`).
    public var natsMaxStore: Int = K.natsMaxStore.defaultValue
    public var replicas: Int = K.replicas.defaultValue
    /// A clustered center (`nats.cluster.*`): the cluster's name, where its route port
    /// listens (loopback unless routes authenticate), that port (0: not clustered) and the
    /// routes to the other centers.
    public var clusterName: String = K.clusterName.defaultValue
    public var clusterHost: String = K.clusterHost.defaultValue
    public var clusterPort: Int = K.clusterPort.defaultValue
    public var clusterRoutes: [String] = K.clusterRoutes.defaultValue
    public var natsUser: String? = K.natsUser.defaultValue
    public var natsPassword: String? = K.natsPassword.defaultValue
    public var natsToken: String? = K.natsToken.defaultValue
    /// Shared credential of leaf connections (`nats.leaf_user`, `nats.leaf_password`): the
    /// center requires it, leaves present it.
    public var leafUser: String? = K.leafUser.defaultValue
    public var leafPassword: String? = K.leafPassword.defaultValue
    /// A center's further leaf credentials (`nats.leaf_credentials`), `user:password` each:
    /// one per leaf keeps each leaf's replies from the others (``leafCredentialPairs``).
    public var leafCredentials: [String] = K.leafCredentials.defaultValue
    /// TLS of leaf connections (`nats.leaf_tls.cert_file`, `key_file`, `ca_file`).
    public var leafTLSCertFile: String? = K.leafTLSCertFile.defaultValue
    public var leafTLSKeyFile: String? = K.leafTLSKeyFile.defaultValue
    public var leafTLSCAFile: String? = K.leafTLSCAFile.defaultValue
    /// Shared credential of routes between centers (`nats.route_user`, `nats.route_password`).
    public var routeUser: String? = K.routeUser.defaultValue
    public var routePassword: String? = K.routePassword.defaultValue
    /// TLS of routes (`nats.route_tls.cert_file`, `key_file`, `ca_file`).
    public var routeTLSCertFile: String? = K.routeTLSCertFile.defaultValue
    public var routeTLSKeyFile: String? = K.routeTLSKeyFile.defaultValue
    public var routeTLSCAFile: String? = K.routeTLSCAFile.defaultValue

    /// Whether this node is a center in a NATS cluster (`nats.cluster.port` set).
    public var isClusteredCenter: Bool { role == .center && natsEmbedded && clusterPort != 0 }

    public var cacheMaxCost: Int = K.cacheMaxCost.defaultValue
    public var cacheNumCounters: Int = K.cacheNumCounters.defaultValue
    public var cacheNegativeTTL: Int = K.cacheNegativeTTL.defaultValue

    public var defaultTTL: Int = K.defaultTTL.defaultValue
    /// Sessions a user may have (`presence.max_sessions`).
    public var maxSessions: Int = K.maxSessions.defaultValue
    /// Heartbeats are stored in the bucket as in v0.2 (`presence.durable_heartbeats`).
    public var durableHeartbeats: Bool = K.durableHeartbeats.defaultValue
    /// Seconds a dropped socket's session waits for a takeover (`presence.reconnect_grace`).
    public var reconnectGrace: Int = K.reconnectGrace.defaultValue
    /// Seconds a write that could not reach the bucket is tried again (`presence.write_failover_wait`).
    public var writeFailoverWait: Int = K.writeFailoverWait.defaultValue
    public var retention: Int = K.retention.defaultValue
    /// Whether accepted changes are audited (`audit.enabled`).
    public var auditEnabled: Bool = K.auditEnabled.defaultValue
    /// Seconds an audit entry is kept (`audit.retention`).
    public var auditRetention: Int = K.auditRetention.defaultValue
    /// Whether an invisible user's message is audited (`audit.invisible_messages`).
    public var auditInvisibleMessages: Bool = K.auditInvisibleMessages.defaultValue
    /// Seconds between expiry sweeps on the center (`presence.sweep_interval`).
    public var sweepInterval: Double = K.sweepInterval.defaultValue
    /// Most records persisted offline per sweep (`presence.sweep_batch`).
    public var sweepBatch: Int = K.sweepBatch.defaultValue

    /// Most concurrent SSE streams on this node (`stream.max_streams`); past it, 503.
    public var maxStreams: Int = K.maxStreams.defaultValue
    /// Events a stream may have queued before it is cut off as a slow consumer (`stream.queue_size`).
    public var streamQueueSize: Int = K.streamQueueSize.defaultValue
    /// Seconds between `: keepalive` comments (`stream.keepalive`).
    public var streamKeepalive: Double = K.streamKeepalive.defaultValue
    /// Bytes one stream may hold for its client (events queued, and bytes its connection has
    /// not sent yet) before it is cut off as a slow consumer (`stream.max_buffered_bytes`).
    public var streamMaxBufferedBytes: Int = K.streamMaxBufferedBytes.defaultValue
    /// Bytes all streams together may hold (`stream.max_total_buffered_bytes`); past it, the
    /// streams that are behind are cut off when they would grow.
    public var streamMaxTotalBufferedBytes: Int = K.streamMaxTotalBufferedBytes.defaultValue

    public var jwtSecret: String? = K.jwtSecret.defaultValue
    public var publicKeyFile: String? = K.publicKeyFile.defaultValue
    /// A JWK Set file (`auth.jwks_file`).
    public var jwksFile: String? = K.jwksFile.defaultValue
    /// A JWK Set URL (`auth.jwks_url`).
    public var jwksURL: String? = K.jwksURL.defaultValue
    /// Seconds between fetches of ``jwksURL`` (`auth.jwks_refresh`).
    public var jwksRefresh: Double = K.jwksRefresh.defaultValue
    public var issuer: String = K.issuer.defaultValue
    public var audience: String = K.audience.defaultValue
    public var publicReads: Bool = K.publicReads.defaultValue
    public var leewaySeconds: Int = K.leeway.defaultValue

    public var writesPerSecond: Double = K.writesPerSecond.defaultValue
    public var writeBurst: Int = K.writeBurst.defaultValue
    public var readsPerSecond: Double = K.readsPerSecond.defaultValue
    public var readBurst: Int = K.readBurst.defaultValue

    /// The OTLP/HTTP collector spans are exported to (`tracing.otlp_endpoint`); nil: no tracing.
    public var tracingEndpoint: String? = K.tracingEndpoint.defaultValue
    /// Body format of the export (`tracing.otlp_protocol`).
    public var tracingProtocol: TracingProtocol = K.tracingProtocol.defaultValue
    /// Share of requests without a sampled `traceparent` that are traced (`tracing.sample_ratio`).
    public var tracingSampleRatio: Double = K.tracingSampleRatio.defaultValue
    /// `service.name` of the node's spans (`tracing.service_name`).
    public var tracingServiceName: String = K.tracingServiceName.defaultValue

    public var logLevel: Logger.Level = K.logLevel.defaultValue
    /// `logfmt` (default) or `json` (`log_format`).
    public var logFormat: StructuredLogHandler.Format = K.logFormat.defaultValue

    /// Development mode (`--dev`): a generated secret is used when none is configured.
    public var developmentMode = false

    /// `PRESENCE_*` environment variables that name no key and were ignored (sorted); the
    /// node logs them once at start.
    public var ignoredEnvironmentVariables: [String] = []

    /// The defaults.
    public init() {}
}
