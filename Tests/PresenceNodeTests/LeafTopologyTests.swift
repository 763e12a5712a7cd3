import Foundation
import EmbeddedNATS
import Testing

/// Hub and spoke with real processes: a center and leaves on loopback (SPEC §1, issue 3).
@Suite("Leaf nodes", .serialized, .temporaryFiles, .timeLimit(.minutes(5)))
struct LeafTopologyTests {
    @Test func aWriteOnOneLeafIsReadableOnTheOther() async throws {
        let topology = try await Topology.startCenter()
        let leaf1 = try topology.startLeaf(name: "leaf-1")
        let leaf2 = try topology.startLeaf(name: "leaf-2")
        try await leaf1.waitUntilReady()
        try await leaf2.waitUntilReady()

        let (status, written) = try await leaf1.put("lena", #"{"status":"busy","message":"from leaf 1"}"#)
        #expect(status == 200)
        #expect(written["node_id"] as? String == "leaf-1")
        let revision = try #require(written["revision"] as? Int)
        let started = ContinuousClock.now
        var seen: [String: Any] = [:]
        while ContinuousClock.now - started < .seconds(2) {
            let (code, body) = try await leaf2.get("/api/v2/presence/lena")
            if code == 200, body["revision"] as? Int == revision {
                seen = body
                break
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(seen["message"] as? String == "from leaf 1", "leaf 2 did not see the write within 2 s")
        // The center lists both leaves.
        let (_, info) = try await topology.center.get("/health/info")
        #expect((info["leafnodes"] as? [[String: Any]])?.count == 2)
        let (_, leafInfo) = try await leaf1.get("/health/info")
        #expect((leafInfo["nats"] as? [String: Any])?["hub_reachable"] as? Bool == true)
        #expect(leafInfo["leafnodes"] == nil)
        await leaf1.stop()
        await leaf2.stop()
        await topology.center.stop()
    }

    @Test func aLateLeafIsReadyOnlyWithTheWholeDataSet() async throws {
        let topology = try await Topology.startCenter()
        let users = (0..<300).map { "late\($0)" }
        for user in users {
            let (status, _) = try await topology.center.put(user, #"{"status":"online"}"#)
            #expect(status == 200)
        }
        let leaf = try topology.startLeaf(name: "late-leaf")
        try await leaf.waitUntilReady()
        // The moment it is ready, every record that existed before it started is there.
        let ids = users.map { "\"\($0)\"" }.joined(separator: ",")
        let (status, body) = try await HTTP.request(
            "POST", port: leaf.httpPort, path: "/api/v2/presence/batch", body: #"{"user_ids":[\#(ids)]}"#)
        #expect(status == 200)
        #expect((body["presences"] as? [Any])?.count == 300)
        #expect((body["not_found"] as? [Any])?.isEmpty == true)
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func leavesServeReadsThroughAHubOutageAndRecoverByThemselves() async throws {
        let centerDirectory = TemporaryDirectory.make()
        var topology = try await Topology.startRestartableCenter(dataDirectory: centerDirectory)
        // The restarted center takes the ports of the first one, so the leaf finds it again.
        let leafnodePort = topology.leafnodePort
        let clientPort = try #require(topology.center.natsClientPort)
        let centerHTTP = topology.center.httpPort
        let leaf = try topology.startLeaf(name: "outage-leaf")
        try await leaf.waitUntilReady()
        let (_, before) = try await leaf.put("olga", #"{"status":"busy","message":"before"}"#)

        await topology.center.stop()
        // Reads go on from the replica.
        let (readStatus, read) = try await leaf.get("/api/v2/presence/olga")
        #expect(readStatus == 200)
        #expect(read["message"] as? String == "before")
        // Writes fail with 503 and Retry-After once the node's budget for waiting out a
        // failover (10 s from the first failure) is spent; at once after that.
        let token = try await TestNode.token("olga")
        let started = ContinuousClock.now
        let (writeStatus, writeBody) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: "/api/v2/presence/olga", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"status":"away"}"#)
        #expect(ContinuousClock.now - started < .seconds(11).scaled)
        #expect(writeStatus == 503)
        let again = ContinuousClock.now
        let (secondStatus, _) = try await HTTP.request(
            "PUT", port: leaf.httpPort, path: "/api/v2/presence/olga", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"status":"away"}"#)
        #expect(secondStatus == 503)
        #expect(ContinuousClock.now - again < .milliseconds(500).scaled, "a hub gone for longer than the budget: 503 at once")
        #expect((writeBody["error"] as? [String: Any])?["code"] as? String == "unavailable")
        // Not ready, with a reason.
        var readiness: (Int, [String: Any]) = (0, [:])
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            readiness = try await leaf.get("/health/ready")
            if readiness.0 == 503 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(readiness.0 == 503)
        #expect(readiness.1["ready"] as? Bool == false)
        #expect((readiness.1["reason"] as? String)?.isEmpty == false)

        // The center comes back with the same data; the leaf recovers on its own.
        topology = try await Topology.startCenter(
            dataDirectory: centerDirectory, leafnodePort: leafnodePort, clientPort: clientPort, httpPort: centerHTTP)
        let (_, afterRestart) = try await topology.center.put("olga2", #"{"status":"online","message":"while leaf recovers"}"#)
        try await leaf.waitUntilReady()
        let (status, after) = try await leaf.put("olga", #"{"status":"away","message":"after"}"#)
        #expect(status == 200)
        #expect((after["revision"] as? Int ?? 0) > (before["revision"] as? Int ?? 0))
        // Nothing acknowledged was lost, and updates made meanwhile reached the leaf.
        var olga2: [String: Any] = [:]
        let syncDeadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < syncDeadline {
            let (code, body) = try await leaf.get("/api/v2/presence/olga2")
            if code == 200 { olga2 = body; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(olga2["revision"] as? Int == afterRestart["revision"] as? Int)
        let (_, centerView) = try await topology.center.get("/api/v2/presence/olga")
        #expect(centerView["message"] as? String == "after")
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func anAnonymousLeafIsRejectedWhenLeafCredentialsAreConfigured() async throws {
        let credentials = ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "s3cret-pass"]
        let topology = try await Topology.startCenter(extraEnvironment: credentials)
        let anonymous = try topology.startLeaf(name: "anonymous")
        let wrong = try topology.startLeaf(
            name: "wrong", extraEnvironment: ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "nope"])
        let trusted = try topology.startLeaf(name: "trusted", extraEnvironment: credentials)
        try await trusted.waitUntilReady()
        let (status, _) = try await trusted.put("tina", #"{"status":"online"}"#)
        #expect(status == 200)
        try await Task.sleep(for: .seconds(2))
        for rejected in [anonymous, wrong] {
            #expect(rejected.process.isRunning, "a refused leaf keeps running and keeps trying")
            let (ready, _) = try await rejected.get("/health/ready")
            #expect(ready == 503, "a leaf without the right credentials must never reach the hub")
        }
        let (_, info) = try await topology.center.get("/health/info")
        #expect((info["leafnodes"] as? [[String: Any]])?.count == 1)
        for process in [anonymous, wrong, trusted] { await process.stop() }
        await topology.center.stop()
    }

    @Test func leafConnectionsCanUseTLS() async throws {
        let certificates = try TestCertificates.make()
        let topology = try await Topology.startCenter(extraEnvironment: [
            "PRESENCE_NATS_LEAF_TLS_CERT_FILE": certificates.serverCertificate,
            "PRESENCE_NATS_LEAF_TLS_KEY_FILE": certificates.serverKey,
        ])
        let leaf = try topology.startLeaf(
            name: "tls-leaf", extraEnvironment: ["PRESENCE_NATS_LEAF_TLS_CA_FILE": certificates.caCertificate],
            hub: "nats-leaf://localhost:\(topology.leafnodePort)")
        try await leaf.waitUntilReady()
        let (status, _) = try await leaf.put("tess", #"{"status":"online"}"#)
        #expect(status == 200)
        let untrusting = try topology.startLeaf(name: "no-ca", hub: "nats-leaf://localhost:\(topology.leafnodePort)")
        try await Task.sleep(for: .seconds(2))
        #expect(untrusting.process.isRunning, "a refused leaf keeps running and keeps trying")
        let (ready, _) = try await untrusting.get("/health/ready")
        #expect(ready == 503, "a plain leaf cannot join a TLS leafnode port")
        await leaf.stop()
        await untrusting.stop()
        await topology.center.stop()
    }
}

/// A CA and a server certificate for `localhost`/127.0.0.1, made with openssl for one test.
struct TestCertificates {
    let caCertificate: String
    let serverCertificate: String
    let serverKey: String

    static func make() throws -> TestCertificates {
        let directory = TemporaryDirectory.make()
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CancellationError() }
        }
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=presence-test-ca"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try openssl([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "2", "-extfile", "san.ext",
        ])
        return TestCertificates(
            caCertificate: directory + "/ca.pem", serverCertificate: directory + "/server.pem",
            serverKey: directory + "/server.key")
    }
}

@Suite("presence demo", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct DemoCommandTests {
    /// `presence demo --base-port` on ports nothing else uses (a `make run` on 8080 and the
    /// default NATS ports does not disturb it); another run of ports when one was taken
    /// between the check and the bind.
    private func startDemo(directory: String, centers: Int = 1, input: Pipe? = nil) async throws -> (ServiceProcess, base: Int) {
        for _ in 0..<3 {
            let base = FreePort.consecutive(2 + centers)
            let demo = try ServiceProcess(
                arguments: [
                    "demo", "--data-dir", directory + "/demo", "--base-port", String(base), "--centers", String(centers),
                ], environment: [:], dataDirectory: directory, httpPort: base, input: input)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, !demo.output.contains("Press Ctrl-C"), demo.process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            if demo.output.contains("Press Ctrl-C") { return (demo, base) }
            demo.signal(SIGINT)
            _ = await demo.waitForExit(timeout: .seconds(30))
            guard demo.output.contains("failed to start") else {
                Issue.record("the demo did not start: \(demo.output)")
                throw CancellationError()
            }
        }
        Issue.record("the demo did not start on three runs of free ports")
        throw CancellationError()
    }

    /// A node that cannot start ends the demo with exit 1 (not the usage code 64) and one line
    /// that says why, taken from the node's log, and where that log is.
    @Test func aNodeThatCannotStartEndsTheDemoWithItsReason() async throws {
        let directory = TemporaryDirectory.make()
        let base = FreePort.consecutive(3)
        let demo = try ServiceProcess(
            arguments: ["demo", "--data-dir", directory + "/demo", "--base-port", String(base)],
            environment: ["PRESENCE_NATS_SERVER_BINARY": directory + "/no-such/nats-server"], dataDirectory: directory,
            httpPort: base)
        #expect(await demo.waitForExit(timeout: .seconds(60)) == 1, "\(demo.output)")
        let failed = demo.output.split(separator: "\n").filter { $0.contains("failed to start") }
        #expect(failed.count == 1, "\(demo.output)")
        #expect(
            failed.first?.hasPrefix(
                "presence: center failed to start: invalid value for 'nats.server_binary': '\(directory)/no-such/nats-server' is not an executable file;"
            ) == true, "\(demo.output)")
        #expect(failed.first?.hasSuffix("(its log: \(directory)/demo/center/service.log)") == true)
        #expect(!demo.output.contains("USAGE"))
    }

    @Test func theDemoRunsACenterAndTwoLeavesAndStopsThemAll() async throws {
        let directory = TemporaryDirectory.make()
        let (demo, base) = try await startDemo(directory: directory)
        #expect(demo.output.contains("http://localhost:\(base + 2)"))
        let token = try #require(
            demo.output.split(separator: "\n").first { $0.contains("export TOKEN=") }?.split(separator: "=").last)
        let (status, _) = try await HTTP.request(
            "PUT", port: base + 1, path: "/api/v2/presence/alice", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"status":"busy"}"#)
        #expect(status == 200)
        #expect(try await statusOnceAliceReads(port: base + 2, within: .seconds(5)) == 200)
        await expectCtrlCStopsEveryNode(demo, directory: directory, nodes: ["center", "leaf-1", "leaf-2"])
    }

    /// The status of `GET /api/v2/presence/alice` on `port`, asked every 50 ms until 200 or
    /// `within` passed. Every node of a started demo listens: a request that fails (rather
    /// than answers another status) fails the test, with its error.
    private func statusOnceAliceReads(port: Int, within: Duration) async throws -> Int {
        var seen = 0
        let deadline = ContinuousClock.now + within.scaled
        while ContinuousClock.now < deadline {
            seen = try await HTTP.request("GET", port: port, path: "/api/v2/presence/alice").0
            if seen == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return seen
    }

    /// Ctrl-C ends the demo with 0 and every node's nats-server with it.
    private func expectCtrlCStopsEveryNode(_ demo: ServiceProcess, directory: String, nodes: [String]) async {
        let pids = nodes.compactMap { node in readPIDFile("\(directory)/demo/\(node)/nats-server.pid") }
        #expect(pids.count == nodes.count)
        demo.signal(SIGINT)
        // The demo gives its nodes 20 s to stop gracefully, then kills them.
        #expect(await demo.waitForExit(timeout: .seconds(30)) == 0)
        for pid in pids { #expect(await waitUntilGone(pid)) }
    }

    @Test(.enabled(if: ClusterTopology.serverCanCluster, "clustered centers need nats-server 2.10+"))
    func theDemoRunsAClusteredCenterOfThree() async throws {
        let directory = TemporaryDirectory.make()
        let console = Pipe()
        let (demo, base) = try await startDemo(directory: directory, centers: 3, input: console)
        let token = try #require(
            demo.output.split(separator: "\n").first { $0.contains("export TOKEN=") }?.split(separator: "=").last)
        let (status, _) = try await HTTP.request(
            "PUT", port: base + 1, path: "/api/v2/presence/alice", headers: ["Authorization": "Bearer \(token)"],
            body: #"{"status":"away"}"#)
        #expect(status == 200)
        for port in [base, base + 2, base + 3, base + 4] {
            #expect(try await statusOnceAliceReads(port: port, within: .seconds(10)) == 200, "alice reads on port \(port)")
        }
        let (_, info) = try await HTTP.request("GET", port: base + 4, path: "/health/info")
        let cluster = info["cluster"] as? [String: Any]
        #expect(cluster?["bucket_replicas"] as? Int == 3)
        #expect((cluster?["peers"] as? [[String: Any]])?.count == 2)

        // Failover: center-2 dies; the demo says so and keeps the others, writes through a leaf
        // go on, and `restart center-2` brings it back on its HTTP port.
        let center2 = try #require(NodeProcesses.pid(commandLineContaining: "\(directory)/demo/center-2"))
        kill(center2, SIGKILL)
        try await demo.waitForOutput("center-2 stopped")
        #expect(demo.process.isRunning)
        // A leaf whose hub was center-2 reconnects to another center within seconds (issue 27
        // is about answering no 503 meanwhile).
        var during = 0
        let failoverDeadline = ContinuousClock.now + .seconds(15).scaled
        while during != 200, ContinuousClock.now < failoverDeadline {
            during = try await HTTP.request(
                "PUT", port: base + 2, path: "/api/v2/presence/alice", headers: ["Authorization": "Bearer \(token)"],
                body: #"{"status":"busy"}"#
            ).0
            if during != 200 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(during == 200, "a write through a leaf while center-2 is dead")
        console.fileHandleForWriting.write(Data("restart center-2\n".utf8))
        try await demo.waitForOutput("Restarting center-2")
        // Center-2 listens again once its node has started: until then its port refuses.
        let restartDeadline = ContinuousClock.now + .seconds(40).scaled
        while ContinuousClock.now < restartDeadline, await MonitorClient.get(port: base + 3, path: "/health/ready") == nil {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await statusOnceAliceReads(port: base + 3, within: .seconds(5)) == 200, "center-2 answers again")
        await expectCtrlCStopsEveryNode(
            demo, directory: directory, nodes: ["center-1", "center-2", "center-3", "leaf-1", "leaf-2"])
    }
}
