import EmbeddedNATS
import Hummingbird
import HummingbirdCore
import Logging
import PresenceCore
import PresenceHTTP
import ServiceLifecycle
import Tracing

/// A node's HTTP side: the router over the store, the health and metrics endpoints, and the
/// Hummingbird application that runs every service.
extension PresenceNode {
    static func makeApplication(
        _ configuration: NodeConfiguration, parts: StoreParts, supervisor: NATSServerSupervisor?,
        authentication: Authentication, tls: TLSCertificateStore?, connections: ConnectionBudget,
        changes: PresenceChangeHub, metrics: NodeMetrics, tracer: (any Tracer)?, services: [any Service],
        clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) -> Application<RouterResponder<PresenceRequestContext>> {
        let store = parts.store
        let verifier = authentication.verifier
        let info = NodeInfoSource(configuration: configuration, store: store, supervisor: supervisor, started: .now)
        let drain = HTTPDrain()
        let httpConnections = ConnectionRegistry(budget: connections.maxConnections)
        let api = PresenceAPISettings(configuration)
        let controller = PresenceController(
            repository: store, changes: changes, verifier: verifier, settings: api,
            metrics: HTTPMetrics(registry: metrics.registry), clock: clock, tracer: tracer,
            tracingSampleRatio: configuration.tracingSampleRatio)
        // Sockets live long like streams: at most the same share of the connection budget, so
        // a probe or a request always finds a descriptor.
        var socketSettings = SocketSettings(configuration)
        let socketShare = connections.streamShare
        if socketSettings.maxConnections == 0 || socketSettings.maxConnections > socketShare {
            socketSettings.maxConnections = socketShare
        }
        let sockets = SocketEndpoint(
            writer: controller.writer, verifier: verifier, hub: changes, settings: socketSettings, api: api,
            metrics: SocketMetrics(registry: metrics.registry), drain: drain, clock: clock, logger: logger)
        let router = buildPresenceRouter(
            controller: controller, sockets: sockets,
            health: HealthController(repository: store, drain: drain, keysMissing: { verifier.keys.missing }) {
                await info.current()
            },
            metricsText: { [sweeper = parts.sweeper, lease = parts.lease, clustered = configuration.isClusteredCenter] in
                metrics.render(
                    store: store, changes: changes, sweeper: sweeper, lease: lease, clustered: clustered,
                    connections: httpConnections)
            },
            logRequests: configuration.logLevel <= .debug)
        return Application(
            router: router,
            server: .presence(
                HTTPServerSettings(configuration), drain: drain, tls: tls, connections: httpConnections, sockets: sockets),
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                // Connections waiting to be accepted hold no descriptor of the node: a long
                // queue (the kernel caps it at net.core.somaxconn) keeps a flood of them from
                // making the kernel drop a good client's handshake (a 1 s retransmission).
                backlog: 4_096,
                availableConnectionsDelegate: httpConnections.delegate),
            // Last: stopped right after the HTTP server, before the store (see SocketEndpoint).
            services: services + [sockets],
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
    }
}
