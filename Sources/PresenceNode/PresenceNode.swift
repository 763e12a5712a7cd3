import EmbeddedNATS
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import PresenceAuth
import PresenceCore
import PresenceHTTP
import PresenceStore
import ServiceLifecycle

/// A whole presence node: embedded nats-server (when configured), the KV store and its
/// replica, and the HTTP API, composed as one Hummingbird application whose services shut
/// down in reverse order (HTTP first, nats-server last).
public struct PresenceNode: Sendable {
    /// The version reported by `/health/info`.
    public static let version = ServiceVersion.current

    /// The HTTP application; run it with `runService()`.
    public let application: Application<RouterResponder<PresenceRequestContext>>
    /// The store (for tests and tools).
    public let store: NATSPresenceStore
    /// The embedded nats-server, when there is one.
    public let supervisor: NATSServerSupervisor?
    /// The expiry sweeper (center only).
    public let sweeper: ExpirySweeper?
    /// The hub that feeds live streams.
    public let changes: PresenceChangeHub
    /// The configuration the node runs with (with the secret resolved).
    public let configuration: NodeConfiguration
    /// Held while the node lives: no second node may use its data directory.
    let dataDirectoryLock: DataDirectoryLock?

    /// Locks the data directory, resolves the secret, starts the embedded nats-server and
    /// builds the store and the HTTP application. The store connects when the node runs, so
    /// HTTP is served from the first second, also while NATS or the hub cannot be reached.
    /// Nothing is left running when it throws.
    /// - Parameters:
    ///   - clock: the time source of records and expiry (tests move it forward).
    ///   - reloadConfiguration: reads the configuration again from where it came from, for
    ///     SIGHUP to re-read the JWT secret and keys; nil: SIGHUP is not handled.
    public static func make(
        configuration: NodeConfiguration, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        reloadConfiguration: (@Sendable () throws -> NodeConfiguration)? = nil
    ) async throws -> PresenceNode {
        var configuration = configuration
        // Before nats-server starts, so that it has the raised limit too.
        let connections = ConnectionBudget(
            configured: configuration.httpMaxConnections, fileLimit: FileLimit.raiseToHardLimit())
        if let configured = connections.reducedFrom {
            logger.warning(
                "service.http.max_connections is more than the open-file limit allows; raise the limit (ulimit -n) or lower the key",
                metadata: ["configured": "\(configured)", "max_connections": "\(connections.maxConnections)"])
        }
        var lock: DataDirectoryLock?
        if configuration.natsEmbedded {
            do {
                lock = try DataDirectoryLock(directory: configuration.dataDirectory)
            } catch let error as DataDirectoryLock.Error {
                throw ConfigurationError(error.description)
            }
        }
        // After the lock: a second node on this directory is told that, not that its ports are
        // taken. NATS ports only once nats-server could not start: the supervisor first stops a
        // nats-server an earlier run of this directory left, which may hold them.
        try PortClash.check(configuration, only: .http)
        try resolveSecret(&configuration, logger: logger)
        let (verifier, keySources, fileMaterial) = try await makeVerifier(configuration)
        // Before nats-server starts: nothing may be left running when this throws.
        let tls = try makeCertificateStore(configuration)
        if let secret = configuration.jwtSecret, secret.utf8.count < 32 {
            logger.warning("the JWT secret is shorter than 32 bytes; RFC 7518 asks for at least 32 for HS256")
        }

        var supervisor: NATSServerSupervisor?
        if configuration.natsEmbedded {
            try await StandaloneStoreMigration.exportIfNeeded(EmbeddedNATSConfiguration(configuration), logger: logger)
            let embedded = NATSServerSupervisor(configuration: EmbeddedNATSConfiguration(configuration), logger: logger)
            do {
                try await embedded.start()
            } catch {
                try PortClash.check(configuration, only: .nats)
                throw error
            }
            supervisor = embedded
        }
        var storage: StorageMonitor?
        if let supervisor, configuration.role == .center {
            storage = StorageMonitor(directory: supervisor.configuration.storeDirectory, supervisor: supervisor, logger: logger)
        }
        // Streams never take the slots requests and health probes need.
        let maxStreams = min(configuration.maxStreams, connections.streamShare)
        if maxStreams < configuration.maxStreams {
            logger.notice(
                "streams are limited to three quarters of the connection budget",
                metadata: ["stream.max_streams": "\(configuration.maxStreams)", "max_streams": "\(maxStreams)"])
        }
        let changes = PresenceChangeHub(
            maxSubscribers: maxStreams, queueCapacity: configuration.streamQueueSize,
            memory: StreamMemoryBudget(
                maxPerStream: configuration.streamMaxBufferedBytes, maxTotal: configuration.streamMaxTotalBufferedBytes))
        let metrics = NodeMetrics()
        var standaloneImport: StandaloneImport?
        var pendingWork: (@Sendable () -> String?)?
        if configuration.role == .center && configuration.natsEmbedded {
            let importer = StandaloneImport(dataDirectory: configuration.dataDirectory, logger: logger)
            pendingWork = { importer.problem }
            standaloneImport = importer
        }
        let storeConfiguration = PresenceStoreConfiguration(
            configuration, supervisor: supervisor, storage: storage, pendingWork: pendingWork)
        let store = NATSPresenceStore(
            configuration: storeConfiguration, logger: logger, changes: changes,
            metrics: StoreMetrics(registry: metrics.registry), clock: clock)

        let settings = PresenceAPISettings(configuration)

        let started = ContinuousClock.now
        let info = NodeInfoSource(configuration: configuration, store: store, supervisor: supervisor, started: started)
        var services: [any Service] = []
        if let supervisor { services.append(supervisor) }
        if let storage { services.append(storage) }
        services.append(store)
        if let standaloneImport {
            standaloneImport.use(store)
            services.append(standaloneImport)
        }
        var sweeper: ExpirySweeper?
        var sweeperLease: SweeperLease?
        if configuration.role == .center {
            // Several centers share the bucket only in a cluster; alone, a center needs no lease
            // (nor the right to create its bucket, which an external NATS may not give).
            let lease =
                configuration.isClusteredCenter ? SweeperLease(store: store, holder: configuration.nodeID, logger: logger) : nil
            let centerSweeper = ExpirySweeper(
                store: store, interval: .milliseconds(Int(configuration.sweepInterval * 1000)),
                batchSize: configuration.sweepBatch, retentionSeconds: configuration.retention, logger: logger, lease: lease)
            if let lease { services.append(lease) }
            services.append(centerSweeper)
            sweeperLease = lease
            sweeper = centerSweeper
        }
        let keyReloader = TokenKeyReloader(
            keys: verifier.keys, sources: keySources, fileMaterial: fileMaterial,
            interval: .milliseconds(Int64(configuration.jwksRefresh * 1000)), logger: logger)
        services.append(keyReloader)
        if let reloadConfiguration {
            services.append(
                HangupReloader(logger: logger) {
                    [developmentSecret = configuration.jwtSecret, dev = configuration.developmentMode, started = configuration] in
                    do {
                        var reloaded = try reloadConfiguration()
                        let needRestart = Self.authKeysNeedingRestart(from: started, to: reloaded)
                        if !needRestart.isEmpty {
                            logger.warning(
                                "SIGHUP reloads keys only: these changes take a restart",
                                metadata: ["keys": "\(needRestart.joined(separator: ","))"])
                        }
                        // The generated development secret is not in any file the reload reads.
                        if dev, reloaded.jwtSecret == nil { reloaded.jwtSecret = developmentSecret }
                        await keyReloader.reload(try TokenKeySources(reloaded))
                        Self.reloadCertificate(tls, from: reloaded, logger: logger)
                    } catch {
                        logger.error("SIGHUP: cannot read the configuration again; nothing changed", metadata: ["error": "\(error)"])
                    }
                })
        }
        services.append(StreamKeepalive(hub: changes, interval: .milliseconds(Int(configuration.streamKeepalive * 1000))))
        let drain = HTTPDrain()
        let httpConnections = ConnectionRegistry(budget: connections.maxConnections)
        services.append(MemoryTrimmer(hub: changes, interval: .seconds(2), logger: logger))
        let router = buildPresenceRouter(
            controller: PresenceController(
                repository: store, changes: changes, verifier: verifier, settings: settings,
                metrics: HTTPMetrics(registry: metrics.registry), clock: clock),
            health: HealthController(repository: store, drain: drain, keysMissing: { verifier.keys.missing }) {
                await info.current()
            },
            metricsText: { [sweeper, sweeperLease, clustered = configuration.isClusteredCenter] in
                metrics.render(
                    store: store, changes: changes, sweeper: sweeper, lease: sweeperLease, clustered: clustered,
                    connections: httpConnections)
            },
            logRequests: configuration.logLevel <= .debug)
        let application = Application(
            router: router,
            server: .presence(HTTPServerSettings(configuration), drain: drain, tls: tls, connections: httpConnections),
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                // Connections waiting to be accepted hold no descriptor of the node: a long
                // queue (the kernel caps it at net.core.somaxconn) keeps a flood of them from
                // making the kernel drop a good client's handshake (a 1 s retransmission).
                backlog: 4_096,
                availableConnectionsDelegate: httpConnections.delegate),
            services: services,
            onServerRunning: { [configuredPort = configuration.httpPort] channel in
                do {
                    try await httpConnections.attach(listener: channel)
                } catch {
                    logger.warning("cannot watch the HTTP listener; at the connection budget new connections wait for a close")
                }
                // The real port, also when the OS assigned it (`service.http.port: 0`).
                let port = channel.localAddress?.port ?? configuredPort
                logger.info(
                    "HTTP server listening",
                    metadata: [
                        "http_port": "\(port)", "scheme": "\(tls == nil ? "http" : "https")",
                        "max_connections": "\(connections.maxConnections)",
                    ])
            },
            logger: logger)
        return PresenceNode(
            application: application, store: store, supervisor: supervisor, sweeper: sweeper, changes: changes,
            configuration: configuration, dataDirectoryLock: lock)
    }

    /// Fills in the JWT secret: configured, or in `--dev` mode the stored or a new dev secret.
    /// - Throws: ``ConfigurationError`` naming `JWT_SECRET` and `auth.jwt_secret` when there is none.
    static func resolveSecret(_ configuration: inout NodeConfiguration, logger: Logger) throws {
        guard configuration.jwtSecret == nil, configuration.publicKeyFile == nil, configuration.jwksFile == nil,
            configuration.jwksURL == nil
        else { return }
        guard configuration.developmentMode else {
            throw ConfigurationError(
                "no JWT secret configured: set the JWT_SECRET environment variable or auth.jwt_secret in the config file (or auth.public_key_file), or start with --dev for a generated development secret"
            )
        }
        configuration.jwtSecret = try DevelopmentSecret.readOrCreate(dataDirectory: configuration.dataDirectory)
        logger.warning(
            "development mode: using a generated JWT secret; do not use in production",
            metadata: ["secret_file": "\(DevelopmentSecret.path(dataDirectory: configuration.dataDirectory))"])
    }

    /// The HTTPS certificate, when `service.http.tls` is set. - Throws: ``ConfigurationError`` for unusable files.
    static func makeCertificateStore(_ configuration: NodeConfiguration) throws -> TLSCertificateStore? {
        guard let certificate = configuration.httpTLSCertFile, let key = configuration.httpTLSKeyFile else { return nil }
        do {
            return try TLSCertificateStore(certificateFile: certificate, keyFile: key)
        } catch {
            throw ConfigurationError("invalid value for 'service.http.tls': \(error.description)")
        }
    }

    /// SIGHUP: the HTTPS certificate and key read again (a failure keeps the ones in use).
    static func reloadCertificate(_ tls: TLSCertificateStore?, from configuration: NodeConfiguration, logger: Logger) {
        guard let certificate = configuration.httpTLSCertFile, let key = configuration.httpTLSKeyFile else {
            if tls != nil { logger.warning("SIGHUP: HTTPS stays on until a restart (service.http.tls is no longer set)") }
            return
        }
        guard let tls else {
            logger.warning("SIGHUP: HTTPS starts with a restart (service.http.tls was not set at start)")
            return
        }
        do {
            try tls.reload(certificateFile: certificate, keyFile: key)
            logger.info("HTTPS certificate reloaded", metadata: ["cert_file": "\(certificate)"])
        } catch {
            logger.error("cannot reload the HTTPS certificate; keeping the one in use", metadata: ["error": "\(error.description)"])
        }
    }

    /// The authentication keys whose change SIGHUP does not apply.
    static func authKeysNeedingRestart(from old: NodeConfiguration, to new: NodeConfiguration) -> [String] {
        var keys: [String] = []
        if old.issuer != new.issuer { keys.append("auth.issuer") }
        if old.audience != new.audience { keys.append("auth.audience") }
        if old.leewaySeconds != new.leewaySeconds { keys.append("auth.leeway") }
        if old.jwksRefresh != new.jwksRefresh { keys.append("auth.jwks_refresh") }
        if old.publicReads != new.publicReads { keys.append("auth.public_reads") }
        return keys
    }

    /// The verifier of client tokens, with the keys of the secret and the files; the JWK Set
    /// URL's keys follow when ``TokenKeyReloader`` has fetched it (in the background: a
    /// provider that hangs cannot hold start-up).
    /// - Throws: ``ConfigurationError`` naming the key of an unusable source.
    static func makeVerifier(_ configuration: NodeConfiguration) async throws
        -> (verifier: TokenVerifier, sources: TokenKeySources, fileMaterial: TokenKeySet.Material)
    {
        let sources = try TokenKeySources(configuration)
        let fileMaterial = try sources.configuredFileMaterial()
        var settings = TokenVerifier.Settings(
            secret: fileMaterial.secret, publicKeyPEM: fileMaterial.publicKeyPEM, jwks: fileMaterial.jwks)
        settings.issuer = configuration.issuer
        settings.audience = configuration.audience
        settings.leewaySeconds = configuration.leewaySeconds
        settings.keysFollow = sources.jwksURL != nil
        do {
            return (try await TokenVerifier(settings: settings), sources, fileMaterial)
        } catch let error as TokenVerifier.ConfigurationError {
            throw ConfigurationError(error.description)
        }
    }
}
