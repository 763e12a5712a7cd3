import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PresenceAuth
import PresenceCore
import PresenceHTTP
import PresenceNode
import NIOConcurrencyHelpers
import Testing

/// A presence node on a real embedded nats-server in a temporary directory, on free ports.
enum TestNode {
    static let secret = "integration-test-secret-0123456789abcdef"

    /// A configuration with ports the OS assigns and a fresh data directory.
    static func configuration(dataDirectory: String? = nil) -> NodeConfiguration {
        var configuration = NodeConfiguration()
        configuration.nodeID = "test-node"
        configuration.natsServerBinary = TestNATSServer.binary
        configuration.dataDirectory = dataDirectory ?? TemporaryDirectory.make()
        configuration.natsClientPort = 0
        configuration.natsLeafnodePort = 0
        configuration.httpPort = 0
        configuration.jwtSecret = secret
        configuration.logLevel = .warning
        return configuration
    }

    /// Runs `body` against a live node; the node (and its nats-server) is stopped afterwards.
    static func withNode<T: Sendable>(
        _ configure: (inout NodeConfiguration) -> Void = { _ in },
        clock: TestClock? = nil,
        live: Bool = false,
        _ body: @escaping @Sendable (PresenceNode, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        var configuration = configuration()
        configure(&configuration)
        var logger = Logger(label: "test-node")
        logger.logLevel = configuration.logLevel
        let node: PresenceNode
        if let clock {
            node = try await PresenceNode.make(configuration: configuration, logger: logger) { clock.now }
        } else {
            node = try await PresenceNode.make(configuration: configuration, logger: logger)
        }
        return try await node.application.test(live ? .live : .router) { client in
            try await waitUntilReady(client)
            return try await body(node, client)
        }
    }

    /// Polls `/health/ready` until it answers 200 (10 s at most).
    static func waitUntilReady(_ client: any TestClientProtocol) async throws {
        let deadline = ContinuousClock.now + .seconds(10).scaled
        while ContinuousClock.now < deadline {
            let status = try await client.execute(uri: "/health/ready", method: .get) { $0.status }
            if status == .ok { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("node did not become ready within 10 s")
    }

    /// A token for `subject` signed with the test secret.
    static func token(_ subject: String, scopes: [String] = [], lifetime: Int = 600) async throws -> String {
        try await TokenIssuer(secret: secret).token(subject: subject, scopes: scopes, lifetime: lifetime)
    }

    /// `Authorization` and JSON content type for `subject`.
    static func headers(for subject: String, scopes: [String] = []) async throws -> HTTPFields {
        [.authorization: "Bearer \(try await token(subject, scopes: scopes))", .contentType: "application/json"]
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let millis: NIOLockedValueBox<Int64>

    init(start: Timestamp = Timestamp.now()) { millis = NIOLockedValueBox(start.millisecondsSinceEpoch) }

    var now: Timestamp { Timestamp(millisecondsSinceEpoch: millis.withLockedValue { $0 }) }

    func advance(seconds: Double) {
        millis.withLockedValue { $0 += Int64(seconds * 1000) }
    }
}

/// Runs of consecutive TCP ports that were free a moment ago, never the same twice in one
/// test run, for the one process that needs ports known in advance (`presence demo
/// --base-port`); everything else listens on ports the OS assigns. A caller retries with
/// another run when a port was taken between the check and the bind.
///
/// Chosen below the kernel's ephemeral range (32768+), so an outgoing connection can never
/// take one between the check and the server's bind.
enum FreePort {
    private static let used = NIOLockedValueBox(Set<Int>())

    /// The first of `count` consecutive ports.
    static func consecutive(_ count: Int) -> Int {
        while true {
            let base = Int.random(in: 15_000..<(32_000 - count))
            let run = Array(base..<(base + count))
            let fresh = used.withLockedValue { used -> Bool in
                guard run.allSatisfy({ !used.contains($0) }) else { return false }
                used.formUnion(run)
                return true
            }
            guard fresh else { continue }
            if run.allSatisfy({ TestLoopback.isBindable(port: $0, host: "0.0.0.0") }) { return base }
        }
    }
}

extension TestResponse {
    /// The body parsed as a JSON object.
    /// The body as a JSON object; records an issue (and is empty) when it is not one, so a
    /// comparison of two missing fields cannot pass unnoticed.
    var json: [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            Issue.record("the body is not a JSON object: \(String(buffer: body))")
            return [:]
        }
        return object
    }

    /// `error.code` of an error body.
    var errorCode: String? {
        (json["error"] as? [String: Any])?["code"] as? String
    }
}

extension ByteBuffer {
    init(json: String) { self.init(string: json) }
}
