import Foundation
import Testing

/// A center and leaves as real `presence serve` processes on loopback.
struct Topology {
    let center: ServiceProcess
    let leafnodePort: Int
    let secret = TestNode.secret

    /// Starts a center, on ports the OS assigns unless given (0); `extraEnvironment` adds configuration.
    static func startCenter(
        dataDirectory: String = TemporaryDirectory.make(), leafnodePort: Int = 0, clientPort: Int = 0, httpPort: Int = 0,
        extraEnvironment: [String: String] = [:]
    ) async throws -> Topology {
        var environment = [
            "JWT_SECRET": TestNode.secret, "PRESENCE_NATS_CLIENT_PORT": String(clientPort),
            "PRESENCE_NATS_LEAFNODE_PORT": String(leafnodePort), "PRESENCE_RATE_LIMIT_WRITE_BURST": "100000",
            "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "100000",
        ]
        environment.merge(extraEnvironment) { $1 }
        let center = try ServiceProcess.serve(
            dataDirectory: dataDirectory, httpPort: httpPort, extraArguments: ["--node-id", "center"],
            environment: environment)
        try await center.waitUntilReady()
        let leafnodePort = try #require(center.leafnodePort, "the center logs its leafnode port")
        return Topology(center: center, leafnodePort: leafnodePort)
    }

    /// Starts a center that the test will stop and start again on the same ports: ports below
    /// the kernel's ephemeral range (``FreePort``). A port the OS assigned comes from that range,
    /// where any outgoing connection (the leaf reconnecting to this very center, say) may take
    /// it while the center is down; these cannot be taken that way. Another run of ports when
    /// one was taken between the check and the bind.
    static func startRestartableCenter(
        dataDirectory: String, extraEnvironment: [String: String] = [:]
    ) async throws -> Topology {
        var last = ""
        for _ in 0..<3 {
            let base = FreePort.consecutive(3)
            var environment = [
                "JWT_SECRET": TestNode.secret, "PRESENCE_NATS_CLIENT_PORT": String(base + 1),
                "PRESENCE_NATS_LEAFNODE_PORT": String(base), "PRESENCE_RATE_LIMIT_WRITE_BURST": "100000",
                "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "100000",
            ]
            environment.merge(extraEnvironment) { $1 }
            let center = try ServiceProcess.serve(
                dataDirectory: dataDirectory, httpPort: base + 2, extraArguments: ["--node-id", "center"],
                environment: environment)
            if try await center.becomesReady() { return Topology(center: center, leafnodePort: base) }
            await center.stop()
            last = center.output
            guard last.lowercased().contains("in use") else { break }
        }
        Issue.record("the center did not start; output:\n\(last)")
        throw CancellationError()
    }

    /// Starts a leaf of this center (not waiting for it to be ready).
    func startLeaf(name: String, extraEnvironment: [String: String] = [:], hub: String? = nil, httpPort: Int = 0) throws -> ServiceProcess {
        var environment = [
            "JWT_SECRET": secret, "PRESENCE_NATS_CLIENT_PORT": "0",
            "PRESENCE_RATE_LIMIT_WRITE_BURST": "100000", "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "100000",
        ]
        environment.merge(extraEnvironment) { $1 }
        return try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), httpPort: httpPort,
            extraArguments: ["--role", "leaf", "--node-id", name, "--hub", hub ?? "nats-leaf://127.0.0.1:\(leafnodePort)"],
            environment: environment)
    }
}

extension ServiceProcess {
    /// `PUT /api/v2/presence/{user}` with an admin token.
    func put(_ user: String, _ body: String) async throws -> (Int, [String: Any]) {
        let token = try await TestNode.token("root", scopes: ["presence:admin"])
        return try await HTTP.request(
            "PUT", port: httpPort, path: "/api/v2/presence/\(user)", headers: ["Authorization": "Bearer \(token)"], body: body)
    }

    func get(_ path: String) async throws -> (Int, [String: Any]) {
        try await HTTP.request("GET", port: httpPort, path: path)
    }

    /// Stops the process with SIGTERM and waits for it.
    func stop() async {
        signal(SIGTERM)
        _ = await waitForExit()
    }
}

/// Polls `path` on every node until `check` holds on all of them (checked at least once), for
/// at most `timeout`: whether it came to hold.
func everywhere(
    _ nodes: [ServiceProcess], _ path: String, within timeout: Duration = .seconds(10), _ check: ([String: Any]) -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        var all = true
        for node in nodes {
            let (status, body) = try await node.get(path)
            if status != 200 || !check(body) { all = false }
        }
        if all { return true }
        try await Task.sleep(for: .milliseconds(20))
    } while ContinuousClock.now < deadline
    return false
}
