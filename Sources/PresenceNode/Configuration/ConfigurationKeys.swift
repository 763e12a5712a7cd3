import EmbeddedNATS
import Foundation
import Logging
import PresenceCore

/// Every configuration key of a node (SPEC §7), each declared once: path, property, default,
/// allowed values, one line of documentation, whether it is a secret, and its `presence serve`
/// flag. ``NodeConfiguration``'s defaults, the reading and its messages, the `PRESENCE_*`
/// environment names, `config/standalone.yaml` and the key table in `docs/configuration.md` all
/// come from here (the tests fail when the last two drift).
enum ConfigurationKeys {
    typealias Key<Value: Sendable & Equatable> = ConfigurationKey<Value>
    typealias C = NodeConfiguration

    static let nodeID = Key(
        "service.node_id", \C.nodeID, default: ProcessInfo.processInfo.hostName, .text,
        doc: "This node's id, written into every record it accepts and shown by /health/info.", flag: "node-id",
        defaultDoc: "the host name")
    static let role = Key(
        "service.role", \C.role, default: .center, .choice([("center", .center), ("leaf", .leaf)], ignoringCase: false),
        doc: "center owns the presence bucket; leaf serves a region from its replica.", flag: "role")
    static let httpHost = Key("service.http.host", \C.httpHost, default: "0.0.0.0", .text, doc: "Where HTTP listens.")
    static let httpPort = Key(
        "service.http.port", \C.httpPort, default: 8080, .int(in: 0...65_535),
        doc: "HTTP port; 0: one the OS assigns (logged as http_port).", flag: "http-port")
    static let httpHeaderTimeout = Key(
        "service.http.header_timeout", \C.httpHeaderTimeout, default: 10, .double(in: 0.1...3600),
        doc: "Seconds a client has to send a request head, from its first byte.")
    static let httpIdleTimeout = Key(
        "service.http.idle_timeout", \C.httpIdleTimeout, default: 60, .double(in: 0.1...86_400),
        doc: "Seconds an idle keep-alive connection is kept.")
    static let httpMaxConnections = Key(
        "service.http.max_connections", \C.httpMaxConnections, default: 0, .int(in: 0...1_000_000),
        doc: "HTTP connections open at once (streams: three quarters); at it, the longest-waiting idle or slow connection makes room. 0: the open-file limit less 64.")
    static let httpTLSCertFile = Key(
        "service.http.tls.cert_file", \C.httpTLSCertFile, default: nil, .optionalText,
        doc: "HTTPS: the PEM certificate chain (with key_file). Re-read on SIGHUP.")
    static let httpTLSKeyFile = Key(
        "service.http.tls.key_file", \C.httpTLSKeyFile, default: nil, .optionalText,
        doc: "HTTPS: the PEM private key of cert_file. Re-read on SIGHUP.")
    static let corsAllowedOrigins = Key(
        "service.http.cors.allowed_origins", \C.corsAllowedOrigins, default: [], .list,
        doc: "Origins whose browser apps may call the API (exact, e.g. https://app.example.com, or *).")
    static let wsPingInterval = Key(
        "service.ws.ping_interval", \C.wsPingInterval, default: 20, .int(in: 1...3600),
        doc: "Seconds between pings of a connected socket; each pong is its session's heartbeat.")
    static let wsPongTimeout = Key(
        "service.ws.pong_timeout", \C.wsPongTimeout, default: 10, .int(in: 1...3600),
        doc: "Seconds after a ping interval without a pong before a silent socket's session ends.")
    static let wsAuthTimeout = Key(
        "service.ws.auth_timeout", \C.wsAuthTimeout, default: 5, .int(in: 1...600),
        doc: "Seconds a new socket has to say hello with a valid token (then closed with 4408).")
    static let wsMaxConnections = Key(
        "service.ws.max_connections", \C.wsMaxConnections, default: 0, .int(in: 0...10_000_000),
        doc: "WebSockets a node keeps open, with its SSE streams; past it upgrades are refused with 503. 0 (and at most): three quarters of the connection budget.")
    static let wsMaxSubscriptions = Key(
        "service.ws.max_subscriptions", \C.wsMaxSubscriptions, default: 1_000, .int(in: 1...100_000),
        doc: "Users one socket may subscribe to.")

    static let natsEmbedded = Key(
        "nats.embedded", \C.natsEmbedded, default: true, .bool,
        doc: "Start and supervise nats-server; false: use the NATS at nats.url.")
    static let natsServerBinary = Key(
        "nats.server_binary", \C.natsServerBinary, default: "auto", .text,
        doc:
            "The nats-server executable: a path, or a name on PATH. auto: the one beside the presence binary, then the project's .tools/nats-server/bin above it, then PATH; one older than 2.10 is refused unless named here.")
    static let dataDirectory = Key(
        "nats.data_dir", \C.dataDirectory, default: "./data", .text,
        doc: "The node's folder: nats-server's config and (center) the JetStream store.", flag: "data-dir")
    static let natsClientPort = Key(
        "nats.client_port", \C.natsClientPort, default: 4222, .int(in: 0...65_535),
        doc: "The embedded nats-server's client port, on loopback; 0: one the OS assigns.", flag: "nats-client-port")
    static let natsLeafnodePort = Key(
        "nats.leafnode_port", \C.natsLeafnodePort, default: 7422, .int(in: 0...65_535),
        doc: "Center: where leaves connect; 0: one the OS assigns.", flag: "leafnode-port")
    static let natsLeafnodeHost = Key(
        "nats.leafnode_host", \C.natsLeafnodeHost, default: "127.0.0.1", .text,
        doc: "Center: where the leafnode port listens; loopback unless leaves authenticate.")
    static let natsMonitorPort = Key(
        "nats.monitor_port", \C.natsMonitorPort, default: 0, .int(in: 0...65_535),
        doc: "nats-server monitoring on loopback; 0: a port chosen at start.")
    static let hubURLs = Key(
        "nats.hub_urls", \C.hubURLs, default: [],
        .natsURLs(schemes: ["nats-leaf", "nats", "tls", "ws", "wss"], portOptional: ["ws", "wss"]),
        doc: "Leaf: the center's leafnode URL(s).", flag: "hub")
    static let natsURL = Key(
        "nats.url", \C.natsURL, default: "nats://127.0.0.1:4222", .text,
        doc: "With nats.embedded false: the NATS to use (several: comma-separated).", flag: "nats-url")
    static let natsMaxStore = Key(
        "nats.max_store", \C.natsMaxStore, default: EmbeddedNATSConfiguration.defaultMaxStoreBytes,
        .int(in: 1_048_576...Int.max),
        doc: "Center: JetStream's storage limit in bytes (fixed, not sized from the space free at start).")
    static let replicas = Key(
        "nats.replicas", \C.replicas, default: 1, .int(in: 1...5),
        doc: "Replicas of the presence bucket (3 on a clustered center); a bucket with fewer is grown at start.")
    static let clusterName = Key(
        "nats.cluster.name", \C.clusterName, default: "presence", .text,
        doc: "Center: the NATS cluster's name, the same on every center.")
    static let clusterHost = Key(
        "nats.cluster.host", \C.clusterHost, default: "127.0.0.1", .text,
        doc: "Center: where the route port listens; loopback unless routes authenticate.")
    static let clusterPort = Key(
        "nats.cluster.port", \C.clusterPort, default: 0, .int(in: 0...65_535),
        doc: "Center: the route port other centers connect to; 0: not clustered.", flag: "cluster-port")
    static let clusterRoutes = Key(
        "nats.cluster.routes", \C.clusterRoutes, default: [], .natsURLs(schemes: ["nats-route", "nats", "tls"]),
        doc: "Center: the route URLs of the cluster's centers (nats-route://host:port), itself included or not.",
        flag: "route")
    static let natsUser = Key(
        "nats.user", \C.natsUser, default: nil, .optionalText, doc: "User for an external NATS.")
    static let natsPassword = Key(
        "nats.password", \C.natsPassword, default: nil, .optionalText, doc: "Password for an external NATS.",
        secret: true)
    static let natsToken = Key(
        "nats.token", \C.natsToken, default: nil, .optionalText, doc: "Token for an external NATS.", secret: true)
    static let leafUser = Key(
        "nats.leaf_user", \C.leafUser, default: nil, .optionalText,
        doc: "The leaf credential's user: a center requires it, a leaf presents it.")
    static let leafPassword = Key(
        "nats.leaf_password", \C.leafPassword, default: nil, .optionalText,
        doc: "The leaf credential's password.", secret: true)
    static let leafCredentials = Key(
        "nats.leaf_credentials", \C.leafCredentials, default: [], .list,
        doc: "Center: more leaf credentials (user:password each); a leaf with its own cannot see another's replies.",
        secret: true)
    static let leafTLSCertFile = Key(
        "nats.leaf_tls.cert_file", \C.leafTLSCertFile, default: nil, .optionalText,
        doc: "TLS of leaf connections: certificate (center: required; leaf: presented if set).")
    static let leafTLSKeyFile = Key(
        "nats.leaf_tls.key_file", \C.leafTLSKeyFile, default: nil, .optionalText,
        doc: "TLS of leaf connections: the certificate's private key.")
    static let leafTLSCAFile = Key(
        "nats.leaf_tls.ca_file", \C.leafTLSCAFile, default: nil, .optionalText,
        doc: "TLS of leaf connections: the CA of the other side (center: requires leaf certificates).")

    static let routeUser = Key(
        "nats.route_user", \C.routeUser, default: nil, .optionalText,
        doc: "The route credential's user: every center requires it of the others and presents it.")
    static let routePassword = Key(
        "nats.route_password", \C.routePassword, default: nil, .optionalText,
        doc: "The route credential's password.", secret: true)
    static let routeTLSCertFile = Key(
        "nats.route_tls.cert_file", \C.routeTLSCertFile, default: nil, .optionalText,
        doc: "TLS of routes: this center's certificate (for both directions of a route).")
    static let routeTLSKeyFile = Key(
        "nats.route_tls.key_file", \C.routeTLSKeyFile, default: nil, .optionalText,
        doc: "TLS of routes: the certificate's private key.")
    static let routeTLSCAFile = Key(
        "nats.route_tls.ca_file", \C.routeTLSCAFile, default: nil, .optionalText,
        doc: "TLS of routes: the CA that signed every center's certificate (verified both ways).")

    static let cacheMaxCost = Key(
        "cache.max_cost", \C.cacheMaxCost, default: 67_108_864, .int(in: 1_048_576...Int.max),
        doc: "Bytes the replica may hold.")
    static let cacheNumCounters = Key(
        "cache.num_counters", \C.cacheNumCounters, default: 1_000_000, .int(in: 1...Int.max),
        doc: "Accepted for compatibility; the replica needs no counters.")
    static let cacheNegativeTTL = Key(
        "cache.negative_ttl", \C.cacheNegativeTTL, default: 5, .int(in: 0...86_400),
        doc: "Seconds to remember \"no record\" while the replica is incomplete.")

    static let defaultTTL = Key(
        "presence.default_ttl", \C.defaultTTL, default: 300, .int(in: PresenceLimits.minTTL...PresenceLimits.maxTTL),
        doc: "TTL in seconds of a PUT without ttl.")
    static let maxSessions = Key(
        "presence.max_sessions", \C.maxSessions, default: 16, .int(in: 1...256),
        doc: "Sessions a user may have; a new one past it ends the least recently updated.")
    static let durableHeartbeats = Key(
        "presence.durable_heartbeats", \C.durableHeartbeats, default: false, .bool,
        doc: "Store every heartbeat in the bucket as v0.2 did instead of sending it on the heartbeat plane; only while v0.2 nodes remain in a rolling upgrade.")
    static let reconnectGrace = Key(
        "presence.reconnect_grace", \C.reconnectGrace, default: 5, .int(in: 0...3600),
        doc: "Seconds a dropped socket's session waits for a new socket to take it over before it ends.")
    static let writeFailoverWait = Key(
        "presence.write_failover_wait", \C.writeFailoverWait, default: 10, .int(in: 0...60),
        doc: "Seconds a write that could not reach the bucket (a failover, a rolling restart) is tried again before it is answered 503; 0: at once.")
    static let retention = Key(
        "presence.retention", \C.retention, default: 2_592_000, .int(in: 60...Int(Int32.max)),
        doc: "Seconds after its last write a record is dropped by the center (then 404 everywhere).")
    static let auditEnabled = Key(
        "audit.enabled", \C.auditEnabled, default: true, .bool,
        doc: "Append every accepted change (not heartbeats) to the presence-audit stream (SPEC §3c).")
    static let auditRetention = Key(
        "audit.retention", \C.auditRetention, default: 2_592_000, .int(in: 60...Int(Int32.max)),
        doc: "Seconds the centers keep an audit entry (30 days by default).")
    static let auditInvisibleMessages = Key(
        "audit.invisible_messages", \C.auditInvisibleMessages, default: false, .bool,
        doc: "Keep the message text in the audit entry of a user who is invisible after the change.")
    static let sweepInterval = Key(
        "presence.sweep_interval", \C.sweepInterval, default: 1, .double(in: 0.01...3600),
        doc: "Longest time between expiry sweeps on the center, seconds; a sweep also runs as soon as the next expiry falls due.")
    static let sweepBatch = Key(
        "presence.sweep_batch", \C.sweepBatch, default: 1000, .int(in: 1...1_000_000),
        doc: "Most records persisted offline per sweep; a full batch waits sweep_interval before the next, so expiries never take more of the store's write rate.")

    static let maxStreams = Key(
        "stream.max_streams", \C.maxStreams, default: 10_000, .int(in: 0...1_000_000),
        doc: "Open SSE streams per node; past it, 503.")
    static let streamQueueSize = Key(
        "stream.queue_size", \C.streamQueueSize, default: 256, .int(in: 1...1_000_000),
        doc: "Events a stream may have queued before it is cut off as a slow consumer.")
    static let streamKeepalive = Key(
        "stream.keepalive", \C.streamKeepalive, default: 15, .double(in: 0.01...3600),
        doc: "Seconds between `: keepalive` comments.")
    static let streamMaxBufferedBytes = Key(
        "stream.max_buffered_bytes", \C.streamMaxBufferedBytes, default: 262_144, .int(in: 16_384...(1 << 40)),
        doc: "Bytes one stream may hold (queued events + unsent bytes); past it, cut off.")
    static let streamMaxTotalBufferedBytes = Key(
        "stream.max_total_buffered_bytes", \C.streamMaxTotalBufferedBytes, default: 67_108_864,
        .int(in: 16_384...(1 << 50)),
        doc: "Bytes all streams together may hold; past it, streams that are behind are cut off.")

    static let jwtSecret = Key(
        "auth.jwt_secret", \C.jwtSecret, default: nil, .optionalText,
        doc: "HS256 secret of client tokens (also JWT_SECRET).", secret: true, example: "${JWT_SECRET}")
    static let publicKeyFile = Key(
        "auth.public_key_file", \C.publicKeyFile, default: nil, .optionalText,
        doc: "PEM public keys (RS256/ES256) of client tokens: one, or several during a rotation.")
    static let jwksFile = Key(
        "auth.jwks_file", \C.jwksFile, default: nil, .optionalText,
        doc: "A JWK Set file; a token's key is chosen by its kid. Re-read on SIGHUP.")
    static let jwksURL = Key(
        "auth.jwks_url", \C.jwksURL, default: nil, .optionalText,
        doc: "A JWK Set URL (an identity provider's jwks_uri), fetched in the background from the start (the node is not ready until it answers), every auth.jwks_refresh seconds, and when a token names an unknown kid (at most every 10 s).")
    static let jwksRefresh = Key(
        "auth.jwks_refresh", \C.jwksRefresh, default: 300, .double(in: 1...86_400),
        doc: "Seconds between fetches of auth.jwks_url.")
    static let issuer = Key("auth.issuer", \C.issuer, default: "", .text, doc: "Required iss claim; empty: any.")
    static let audience = Key("auth.audience", \C.audience, default: "", .text, doc: "Required aud claim; empty: any.")
    static let publicReads = Key(
        "auth.public_reads", \C.publicReads, default: true, .bool, doc: "Reads need no token.")
    static let leeway = Key(
        "auth.leeway", \C.leewaySeconds, default: 5, .int(in: 0...3600),
        doc: "Seconds of clock skew allowed on exp and nbf.")

    static let writesPerSecond = Key(
        "rate_limit.writes_per_second", \C.writesPerSecond, default: 10, .double(in: 0...Double.greatestFiniteMagnitude),
        doc: "Writes per second per user; 0: no limit.")
    static let writeBurst = Key(
        "rate_limit.write_burst", \C.writeBurst, default: 20, .int(in: 1...1_000_000), doc: "Write burst per user.")
    static let readsPerSecond = Key(
        "rate_limit.reads_per_second", \C.readsPerSecond, default: 0, .double(in: 0...Double.greatestFiniteMagnitude),
        doc: "Reads per second per client address; 0: no limit.")
    static let readBurst = Key(
        "rate_limit.read_burst", \C.readBurst, default: 100, .int(in: 1...1_000_000),
        doc: "Read burst per client address.")

    static let tracingEndpoint = Key(
        "tracing.otlp_endpoint", \C.tracingEndpoint, default: nil, .optionalText,
        doc: "OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318; spans go to /v1/traces); unset: no tracing at all.")
    static let tracingSampleRatio = Key(
        "tracing.sample_ratio", \C.tracingSampleRatio, default: 1, .double(in: 0...1),
        doc: "Share of requests traced that come without a sampled traceparent (one from the client is followed).")
    static let tracingProtocol = Key(
        "tracing.otlp_protocol", \C.tracingProtocol, default: .httpProtobuf,
        .choice([("http/protobuf", .httpProtobuf), ("http/json", .httpJSON)], ignoringCase: true),
        doc: "Body format of the OTLP/HTTP export.")
    static let tracingServiceName = Key(
        "tracing.service_name", \C.tracingServiceName, default: "presence", .text,
        doc: "service.name of this node's spans (service.instance.id is service.node_id).")

    static let logLevel = Key(
        "log_level", \C.logLevel, default: .info,
        .choice(
            [("debug", .debug), ("info", .info), ("warn", .warning), ("error", .error)],
            aliases: [("warning", .warning), ("trace", .trace)], ignoringCase: true),
        doc: "Least severe level logged.")
    static let logFormat = Key(
        "log_format", \C.logFormat, default: .logfmt,
        .choice([("logfmt", .logfmt), ("json", .json)], ignoringCase: true), doc: "Log line format.")

    /// Every key, in the order of the documentation.
    static let all: [any AnyConfigurationKey] = [
        nodeID, role, httpHost, httpPort, httpHeaderTimeout, httpIdleTimeout, httpMaxConnections, httpTLSCertFile, httpTLSKeyFile, corsAllowedOrigins,
        wsPingInterval, wsPongTimeout, wsAuthTimeout, wsMaxConnections, wsMaxSubscriptions,
        natsEmbedded, natsServerBinary, dataDirectory, natsClientPort, natsLeafnodePort, natsLeafnodeHost,
        natsMonitorPort, hubURLs, natsURL, natsMaxStore, replicas, clusterName, clusterHost, clusterPort, clusterRoutes,
        natsUser, natsPassword, natsToken, leafUser, leafPassword, leafCredentials, leafTLSCertFile, leafTLSKeyFile, leafTLSCAFile,
        routeUser, routePassword, routeTLSCertFile, routeTLSKeyFile, routeTLSCAFile,
        cacheMaxCost, cacheNumCounters, cacheNegativeTTL,
        defaultTTL, maxSessions, durableHeartbeats, reconnectGrace, writeFailoverWait, retention, sweepInterval, sweepBatch,
        auditEnabled, auditRetention, auditInvisibleMessages,
        maxStreams, streamQueueSize, streamKeepalive, streamMaxBufferedBytes, streamMaxTotalBufferedBytes,
        jwtSecret, publicKeyFile, jwksFile, jwksURL, jwksRefresh, issuer, audience, publicReads, leeway,
        writesPerSecond, writeBurst, readsPerSecond, readBurst,
        tracingEndpoint, tracingProtocol, tracingSampleRatio, tracingServiceName,
        logLevel, logFormat,
    ]

    /// Keys by path.
    static let byPath: [String: any AnyConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// The environment variable of a key: `service.http.port` → `PRESENCE_SERVICE_HTTP_PORT`
    /// (what swift-configuration's `EnvironmentVariablesProvider` looks up under the
    /// `presence` prefix; a test holds them equal).
    static func environmentName(of path: String) -> String {
        "PRESENCE_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}
