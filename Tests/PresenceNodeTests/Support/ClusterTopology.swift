@testable import EmbeddedNATS
import Foundation
import NIOConcurrencyHelpers
import Testing

/// Clustered centers (`nats.cluster.*`, `nats.replicas: 3`) and their leaves as real
/// `presence serve` processes on loopback. Every center has fixed ports below the ephemeral
/// range (``FreePort``) and its own data directory, so a test can kill one and start it
/// again where it was.
final class ClusterTopology: @unchecked Sendable {
    // @unchecked Sendable: the processes are only replaced from the test's own task.

    /// One center's name, folder and ports.
    struct Member: Sendable {
        let name: String
        let dataDirectory: String
        let httpPort: Int
        let clientPort: Int
        let leafnodePort: Int
        let routePort: Int
    }

    let members: [Member]
    private let running = NIOLockedValueBox<[String: ServiceProcess]>([:])

    init(count: Int = 3, namePrefix: String = "center") {
        members = (0..<count).map { index in
            let base = FreePort.consecutive(4)
            return Member(
                name: "\(namePrefix)-\(index + 1)", dataDirectory: TemporaryDirectory.make(), httpPort: base,
                clientPort: base + 1, leafnodePort: base + 2, routePort: base + 3)
        }
    }

    /// Whether the nats-server tests run with can cluster as the service needs (2.10+; CI
    /// also runs the suite against Debian's 2.9.10, which stays supported standalone only).
    static let serverCanCluster: Bool = {
        guard let path = TestNATSServer.path, let version = NATSServerSupervisor.version(binary: path) else { return false }
        return version >= NATSServerVersion(2, 10, 0)
    }()

    var routes: [String] { members.map { "nats-route://127.0.0.1:\($0.routePort)" } }
    var hubURLs: [String] { members.map { "nats-leaf://127.0.0.1:\($0.leafnodePort)" } }

    /// The running process of a center.
    func center(_ name: String) -> ServiceProcess? { running.withLockedValue { $0[name] } }

    /// The running centers.
    var runningCenters: [ServiceProcess] { members.compactMap { center($0.name) } }

    func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// Starts a center (not waiting for it); `clustered: false` starts it standalone (its
    /// ports and folder as in the cluster, no routes, one replica).
    @discardableResult
    func start(_ name: String, clustered: Bool = true) throws -> ServiceProcess {
        guard let member = member(name) else { throw CancellationError() }
        var arguments = [
            "--node-id", member.name, "--nats-client-port", String(member.clientPort),
            "--leafnode-port", String(member.leafnodePort),
        ]
        var environment = [
            "JWT_SECRET": TestNode.secret, "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "0",
            "PRESENCE_PRESENCE_WRITE_FAILOVER_WAIT": Self.failoverWait,
        ]
        if clustered {
            arguments += ["--cluster-port", String(member.routePort)] + routes.flatMap { ["--route", $0] }
            environment["PRESENCE_NATS_REPLICAS"] = "3"
        }
        let process = try ServiceProcess.serve(
            dataDirectory: member.dataDirectory, httpPort: member.httpPort, extraArguments: arguments,
            environment: environment)
        running.withLockedValue { $0[name] = process }
        return process
    }

    /// Starts every center and waits until each is ready.
    func startAll() async throws {
        for member in members { try start(member.name) }
        for member in members {
            try await center(member.name)?.waitUntilReady(timeout: .seconds(60))
        }
    }

    /// Starts a leaf whose hub URLs list every center.
    func startLeaf(name: String) throws -> ServiceProcess {
        try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(),
            extraArguments: ["--role", "leaf", "--node-id", name] + hubURLs.flatMap { ["--hub", $0] },
            environment: [
                "JWT_SECRET": TestNode.secret, "PRESENCE_NATS_CLIENT_PORT": "0",
                "PRESENCE_RATE_LIMIT_WRITES_PER_SECOND": "0", "PRESENCE_PRESENCE_WRITE_FAILOVER_WAIT": Self.failoverWait,
            ])
    }

    /// `/health/info` of a running process.
    static func info(_ process: ServiceProcess) async -> [String: Any] {
        (try? await HTTP.request("GET", port: process.httpPort, path: "/health/info"))?.1 ?? [:]
    }

    /// The center that leads the bucket, as a running center reports it (waits for one).
    func bucketLeader(timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout.scaled
        while ContinuousClock.now < deadline {
            for process in runningCenters {
                let cluster = await Self.info(process)["cluster"] as? [String: Any]
                if let leader = cluster?["leader"] as? String, center(leader) != nil { return leader }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("no center reports a leader of the bucket")
        throw CancellationError()
    }

    /// The center the leaf named `leaf` is connected to, from the centers' `leafnodes`.
    func centerOfLeaf(_ leaf: String) async -> String? {
        for member in members {
            guard let process = center(member.name) else { continue }
            let leaves = await Self.info(process)["leafnodes"] as? [[String: Any]] ?? []
            if leaves.contains(where: { $0["name"] as? String == leaf }) { return member.name }
        }
        return nil
    }

    /// Kills a center with SIGKILL and waits until it and its nats-server are gone.
    func kill(_ name: String) async {
        guard let process = center(name) else { return }
        let serverPID = process.natsServerPID
        process.signal(SIGKILL)
        _ = await process.waitForExit()
        if let serverPID {
            #expect(await waitUntilGone(serverPID, timeout: .seconds(10)), "the killed center's nats-server dies with it")
        }
        running.withLockedValue { $0[name] = nil }
    }

    /// `presence.write_failover_wait` of the cluster's nodes: the default 10 s, stretched as
    /// the tests' time bounds are on a slow run (ThreadSanitizer makes every process slower,
    /// a failover included).
    static let failoverWait = String(Int((10 * TestTime.scale).rounded(.up)))

    /// Stops a center gracefully (SIGTERM, as a rolling update does), starts it again and
    /// waits until it is ready.
    func restart(_ name: String) async throws {
        guard let process = center(name) else { return }
        await process.stop()
        running.withLockedValue { $0[name] = nil }
        try await start(name).waitUntilReady(timeout: .seconds(60))
    }

    /// Stops every running center (SIGTERM).
    func stopAll() async {
        for process in runningCenters { await process.stop() }
    }
}
