import Hummingbird
import HummingbirdTesting
import Logging
import PresenceAuth
import PresenceCore
import Prometheus

@testable import PresenceHTTP

/// A node's HTTP server in this process, as the node builds it (``PresenceHTTPChannel`` with
/// ``SocketEndpoint``), over an in-memory repository with the real clock, on a port the OS
/// assigns: connected sockets without NATS.
struct SocketServerFixture: Sendable {
    let repository: MemoryPresenceRepository
    let changes: PresenceChangeHub
    let endpoint: SocketEndpoint
    let registry = PrometheusCollectorRegistry()
    let controller: PresenceController<MemoryPresenceRepository>
    let drain = HTTPDrain()

    init(
        sockets settings: SocketSettings = SocketSettings(pingInterval: 1, pongTimeout: 1, authTimeout: 1, reconnectGrace: 1),
        _ configure: (inout PresenceAPISettings) -> Void = { _ in }
    ) async throws {
        var api = PresenceAPISettings.forTests
        configure(&api)
        let verifier = try await TokenVerifier(settings: .init(secret: RouterFixture.secret))
        changes = PresenceChangeHub(maxSubscribers: 4, queueCapacity: 16)
        repository = MemoryPresenceRepository(nodeID: "socket-test", changes: changes, maxSessions: 16)
        controller = PresenceController(
            repository: repository, changes: changes, verifier: verifier, settings: api,
            metrics: HTTPMetrics(registry: registry))
        endpoint = SocketEndpoint(
            writer: controller.writer, verifier: verifier, hub: changes, settings: settings, api: api,
            metrics: SocketMetrics(registry: registry), drain: drain, clock: { Timestamp.now() },
            logger: Logger(label: "socket-test"))
    }

    /// Runs `body` with the server's port.
    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let registry = registry
        let router = buildPresenceRouter(
            controller: controller, sockets: endpoint,
            health: HealthController(repository: repository, drain: drain) { RouterFixture.info },
            metricsText: { registry.emitToBuffer() })
        let app = Application(
            router: router, server: .presence(.forTests, drain: drain, sockets: endpoint),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [endpoint])
        try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            try await body(port)
        }
    }

    /// A token of `subject`.
    static func token(_ subject: String) async throws -> String {
        try await TokenIssuer(secret: RouterFixture.secret).token(subject: subject, scopes: [])
    }

    /// `user`'s presence as a public reader sees it now, nil without a record.
    func status(_ user: String) async throws -> String? {
        try await repository.presence(of: UserID(validating: user))?.publicView(at: .now()).status.rawValue
    }

    /// A counter's value in the metrics text.
    func counter(_ line: String) -> Bool {
        String(decoding: registry.emitToBuffer(), as: UTF8.self).contains(line)
    }
}
