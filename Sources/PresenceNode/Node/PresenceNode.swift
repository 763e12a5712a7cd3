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
    /// The node's tracer and span exporter; nil when `tracing.otlp_endpoint` is unset.
    public let tracing: NodeTracing?
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
        let connections = connectionBudget(configuration, logger: logger)
        let lock = try lockDataDirectory(configuration)
        // After the lock: a second node on this directory is told that, not that its ports are
        // taken. NATS ports only once nats-server could not start: the supervisor first stops a
        // nats-server an earlier run of this directory left, which may hold them.
        try PortClash.check(configuration, only: .http)
        try resolveSecret(&configuration, logger: logger)
        let authentication = try await makeAuthentication(configuration, logger: logger)
        // Before nats-server starts: nothing may be left running when this throws.
        let tls = try makeCertificateStore(configuration)
        try configuration.checkNATSTLSFiles()
        // Before nats-server starts (no I/O: the exporter connects when it sends).
        let tracing = try NodeTracing.make(configuration, logger: logger)
        let supervisor = try await startNATS(configuration, logger: logger)
        let changes = makeChangeHub(configuration, connections: connections, logger: logger)
        let metrics = NodeMetrics()
        let parts = makeStore(
            configuration, supervisor: supervisor, changes: changes, metrics: metrics, tracing: tracing, clock: clock,
            logger: logger)
        // The exporter first: services stop in reverse order, so it flushes the last spans.
        var services = (tracing.map { [$0.exporter] } ?? []) + parts.services
        services += authenticationServices(
            authentication, configuration: configuration, tls: tls, reloadConfiguration: reloadConfiguration, logger: logger)
        services.append(StreamKeepalive(hub: changes, interval: .milliseconds(Int(configuration.streamKeepalive * 1000))))
        services.append(MemoryTrimmer(hub: changes, interval: .seconds(2), logger: logger))
        let application = makeApplication(
            configuration, parts: parts, supervisor: supervisor, authentication: authentication, tls: tls,
            connections: connections, changes: changes, metrics: metrics, tracer: tracing?.tracer, services: services,
            clock: clock, logger: logger)
        return PresenceNode(
            application: application, store: parts.store, supervisor: supervisor, sweeper: parts.sweeper, changes: changes,
            tracing: tracing, configuration: configuration, dataDirectoryLock: lock)
    }
}
