import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceAuth
import PresenceCore
import Prometheus
import NIOConcurrencyHelpers
import Testing

@testable import PresenceHTTP

/// The router of a node, as `buildPresenceRouter` wires it, over an in-memory repository
/// (or another one a test brings), with a clock the test moves: every route and error path
/// without NATS.
struct RouterFixture: Sendable {
    static let secret = "router-test-secret-0123456789abcdef"

    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        /// 2026-11-21T10:00:00.000Z
        private let millis = NIOLockedValueBox<Int64>(1_795_255_200_000)
        var now: Timestamp { Timestamp(millisecondsSinceEpoch: millis.withLockedValue { $0 }) }
        func advance(seconds: Double) { millis.withLockedValue { $0 += Int64(seconds * 1000) } }
    }

    let clock = ManualClock()
    let changes: PresenceChangeHub
    let repository: MemoryPresenceRepository
    let registry = PrometheusCollectorRegistry()
    let drain = HTTPDrain()
    let settings: PresenceAPISettings

    /// - Parameters:
    ///   - maxStreams: the hub's subscriber cap (0: every stream is refused).
    ///   - streamMemory: the hub's byte bounds (tiny bounds cut a stream off at its first event).
    init(
        maxStreams: Int = 4, streamMemory: StreamMemoryBudget = StreamMemoryBudget(),
        _ configure: (inout PresenceAPISettings) -> Void = { _ in }
    ) {
        var settings = PresenceAPISettings.forTests
        configure(&settings)
        self.settings = settings
        changes = PresenceChangeHub(maxSubscribers: maxStreams, queueCapacity: 16, memory: streamMemory)
        repository = MemoryPresenceRepository(nodeID: "router-test", changes: changes, maxSessions: 16) { [clock] in clock.now }
    }

    /// Runs `body` against the router over the fixture's memory repository.
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await test(over: repository, body)
    }

    /// Runs `body` against the router over `store`, verifying tokens with `verifier` (by
    /// default one of ``secret``).
    func test<Repository: PresenceRepository, T: Sendable>(
        over store: Repository, verifier: TokenVerifier? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let verifier = if let verifier { verifier } else { try await TokenVerifier(settings: .init(secret: Self.secret)) }
        let clock = clock
        let controller = PresenceController(
            repository: store, changes: changes, verifier: verifier, settings: settings,
            metrics: HTTPMetrics(registry: registry), clock: { clock.now })
        let health = HealthController(repository: store, drain: drain) { Self.info }
        let registry = registry
        let router = buildPresenceRouter(
            controller: controller, health: health, metricsText: { registry.emitToBuffer() }, logRequests: true)
        return try await Application(router: router).test(.router, body)
    }

    static let info = NodeInfo(
        nodeID: "router-test", role: "center", version: "test", uptimeSeconds: 7,
        nats: .init(connected: true, serverURL: "nats://127.0.0.1:4222", reconnects: 0, hubReachable: true),
        cache: .init(CacheStatistics()), presenceCount: 0, leafnodes: nil)

    /// `Authorization` and a JSON content type for a token of `subject`.
    static func headers(for subject: String, scopes: [String] = []) async throws -> HTTPFields {
        let token = try await TokenIssuer(secret: secret).token(subject: subject, scopes: scopes)
        return [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    /// Headers of an admin token (`presence:admin`).
    static func admin() async throws -> HTTPFields {
        try await headers(for: "root", scopes: ["presence:admin"])
    }
}

extension TestClientProtocol {
    /// `PUT /api/v2/presence/<user>` with a JSON body.
    func put(_ user: String, _ json: String, headers: HTTPFields) async throws -> TestResponse {
        try await execute(uri: "/api/v2/presence/\(user)", method: .put, headers: headers, body: ByteBuffer(string: json))
    }

    /// `GET` of `uri`.
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The body as a JSON object; records an issue (and is empty) when it is not one, so a
    /// comparison of two missing fields cannot pass unnoticed.
    func json(sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        } catch {
            Issue.record("the body is not JSON (\(error)): \(String(buffer: body))", sourceLocation: sourceLocation)
            return [:]
        }
        guard let dictionary = object as? [String: Any] else {
            Issue.record("the body is not a JSON object: \(String(buffer: body))", sourceLocation: sourceLocation)
            return [:]
        }
        return dictionary
    }

    /// `error.code` of an error body; records an issue when the body is not the spec's
    /// error body (`{"error":{"code":…,"message":…}}` and a newline).
    func errorCode(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard let error = json(sourceLocation: sourceLocation)["error"] as? [String: Any],
            let code = error["code"] as? String, error["message"] is String
        else {
            Issue.record("not an error body: \(String(buffer: body))", sourceLocation: sourceLocation)
            return nil
        }
        if body.readableBytesView.last != UInt8(ascii: "\n") {
            Issue.record("the error body does not end with a newline", sourceLocation: sourceLocation)
        }
        return code
    }

    /// The body as text.
    var text: String { String(buffer: body) }
}

/// A repository whose every call fails with one error: a store that cannot be reached,
/// is full, or did not acknowledge a write.
struct FailingRepository: PresenceRepository {
    let error: PresenceError
    var readinessAnswer = Readiness.notReady("the NATS connection is down; reconnecting")

    func presence(of user: UserID) async throws(PresenceError) -> StoredPresence? { throw error }

    func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence
    { throw error }

    func readiness() -> Readiness { readinessAnswer }
}
