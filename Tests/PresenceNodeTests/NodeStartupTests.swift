import Foundation
import Testing

/// A node serves HTTP from its first second and says why it is not ready (SPEC §1, §6); one
/// node per data directory; platform-injected variables never stop it. Real processes.
@Suite("Node start-up", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct NodeStartupTests {
    /// Polls `path` until `accept` holds (10 s at most); returns the last answer.
    static func poll(
        _ node: ServiceProcess, _ path: String, timeout: Duration = .seconds(10),
        until accept: (Int, [String: Any]) -> Bool
    ) async throws -> (Int, [String: Any]) {
        let deadline = ContinuousClock.now + timeout.scaled
        var last: (Int, [String: Any]) = (0, [:])
        while ContinuousClock.now < deadline {
            if let answer = try? await node.get(path) {
                last = answer
                if accept(answer.0, answer.1) { return answer }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    @Test func aLeafWhoseHubIsDownServesHTTPAtOnceSaysWhyAndJoinsWhenTheHubComes() async throws {
        let leafnodePort = FreePort.consecutive(1)
        let leaf = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(),
            extraArguments: ["--role", "leaf", "--node-id", "lonely", "--hub", "nats-leaf://127.0.0.1:\(leafnodePort)"])
        let started = ContinuousClock.now
        let (live, _) = try await Self.poll(leaf, "/health/live", timeout: .seconds(3)) { status, _ in status == 200 }
        #expect(live == 200)
        #expect(ContinuousClock.now - started < .seconds(3).scaled, "HTTP is served at once")
        let (ready, body) = try await Self.poll(leaf, "/health/ready") { _, body in
            (body["reason"] as? String)?.contains("connection refused") == true
        }
        #expect(ready == 503)
        let reason = body["reason"] as? String ?? ""
        #expect(reason.contains("connection refused") && reason.contains("\(leafnodePort)"), "\(reason)")
        let (read, _) = try await leaf.get("/api/v2/presence/anyone")
        #expect(read == 503, "no replica yet: a read cannot be answered")

        // Several retries later, past the time a cause not repeated counts as over: still
        // running, still saying why, and the cause was logged once, not per attempt.
        try await Task.sleep(for: .seconds(7))
        #expect(leaf.process.isRunning)
        let (stillReady, stillBody) = try await leaf.get("/health/ready")
        let stillReason = stillBody["reason"] as? String ?? ""
        #expect(stillReady == 503)
        #expect(
            stillReason.contains("connection refused") && stillReason.contains("\(leafnodePort)"),
            "the reason stays specific for as long as the hub cannot be reached: \(stillReason)")
        let refusals = leaf.output.split(separator: "\n").filter { $0.contains("connection refused") && !$0.contains("level=debug") }
        #expect(refusals.count <= 2, "logged once per change, not per attempt:\n\(refusals.joined(separator: "\n"))")
        #expect(!leaf.output.contains("should be converted"), "nats-server warns about nothing in the file the node writes")

        // The hub comes: the leaf joins by itself.
        let topology = try await Topology.startCenter(leafnodePort: leafnodePort)
        let (nowReady, _) = try await Self.poll(leaf, "/health/ready", timeout: .seconds(15)) { status, _ in status == 200 }
        #expect(nowReady == 200)
        let (written, _) = try await leaf.put("late", #"{"status":"online"}"#)
        #expect(written == 200)
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aLeafWithTheWrongCredentialSaysSo() async throws {
        let topology = try await Topology.startCenter(extraEnvironment: NATSPortSecurityTests.credentials)
        let leaf = try topology.startLeaf(
            name: "wrong", extraEnvironment: ["PRESENCE_NATS_LEAF_USER": "leafy", "PRESENCE_NATS_LEAF_PASSWORD": "nope"])
        let (ready, body) = try await Self.poll(leaf, "/health/ready") { _, body in
            (body["reason"] as? String)?.contains("credential") == true
        }
        #expect(ready == 503)
        #expect((body["reason"] as? String)?.contains("authorization violation") == true, "\(body)")
        await leaf.stop()
        await topology.center.stop()
    }

    @Test func aCenterWhoseExternalNATSIsDownServesHTTPAndConnectsWhenItComes() async throws {
        let port = FreePort.consecutive(1)
        let center = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), extraArguments: ["--nats-url", "nats://127.0.0.1:\(port)"])
        let (ready, body) = try await Self.poll(center, "/health/ready") { status, _ in status == 503 }
        #expect(ready == 503)
        #expect((body["reason"] as? String)?.contains("nats://127.0.0.1:\(port)") == true, "\(body)")
        try await Task.sleep(for: .seconds(2))
        #expect(center.process.isRunning)
        let (write, _) = try await center.put("early", #"{"status":"online"}"#)
        #expect(write == 503)

        let nats = try PlainNATSServer.withJetStream(port: port)
        defer { nats.stop() }
        let (nowReady, _) = try await Self.poll(center, "/health/ready", timeout: .seconds(15)) { status, _ in status == 200 }
        #expect(nowReady == 200)
        let (written, _) = try await center.put("early", #"{"status":"online"}"#)
        #expect(written == 200)
        await center.stop()
    }

    @Test func aSecondNodeOnADataDirectoryInUseRefusesAndLeavesTheFirstAlone() async throws {
        let directory = TemporaryDirectory.make()
        let first = try ServiceProcess.serve(dataDirectory: directory)
        try await first.waitUntilReady()
        let natsPID = try #require(first.natsServerPID)
        let configBefore = try String(contentsOfFile: directory + "/nats-server.conf", encoding: .utf8)

        let second = try ServiceProcess.serve(dataDirectory: directory)
        let status = await second.waitForExit()
        #expect(status != nil && status != 0)
        #expect(second.output.contains(directory) && second.output.contains("in use"), "\(second.output)")
        #expect(!second.output.contains("Starting nats-server"), "the second node started nothing")

        #expect(first.natsServerPID == natsPID)
        #expect(!processIsGone(natsPID))
        #expect(try String(contentsOfFile: directory + "/nats-server.conf", encoding: .utf8) == configBefore)
        let (written, _) = try await first.put("still", #"{"status":"online"}"#)
        #expect(written == 200)
        let (ready, _) = try await first.get("/health/ready")
        #expect(ready == 200)
        await first.stop()
    }

    /// v0.1 kept the bucket in nats-server's global account; v0.2 keeps it in its own account.
    @Test func dataWrittenByTheFirstVersionIsMigratedAndKept() async throws {
        let directory = TemporaryDirectory.make()
        let port = FreePort.consecutive(1)
        let environment = ServiceProcess.testEnvironment()
        let first = try ServiceProcess.serve(dataDirectory: directory, httpPort: port, environment: environment)
        try await first.waitUntilReady()
        let (written, record) = try await first.put("old-timer", #"{"status":"busy","message":"since v0.1"}"#)
        #expect(written == 200)
        await first.stop()
        // Lay the store out as v0.1 left it.
        let accounts = directory + "/jetstream/jetstream"
        try FileManager.default.moveItem(atPath: accounts + "/PRESENCE", toPath: accounts + "/$G")

        let second = try ServiceProcess.serve(dataDirectory: directory, httpPort: port, environment: environment)
        try await second.waitUntilReady()
        let (status, read) = try await second.get("/api/v2/presence/old-timer")
        #expect(status == 200)
        #expect(read["revision"] as? Int == record["revision"] as? Int)
        #expect(read["message"] as? String == "since v0.1")
        #expect(FileManager.default.fileExists(atPath: accounts + "/PRESENCE"))
        #expect(!FileManager.default.fileExists(atPath: accounts + "/$G"))
        await second.stop()
    }

    @Test func variablesKubernetesInjectsDoNotStopANode() async throws {
        let injected = [
            "PRESENCE_SERVICE_HOST": "10.96.0.12", "PRESENCE_SERVICE_PORT": "8080", "PRESENCE_PORT": "tcp://10.96.0.12:8080",
            "PRESENCE_PORT_8080_TCP": "tcp://10.96.0.12:8080", "PRESENCE_PORT_8080_TCP_PROTO": "tcp",
            "PRESENCE_PORT_8080_TCP_PORT": "8080", "PRESENCE_PORT_8080_TCP_ADDR": "10.96.0.12",
        ]
        let node = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), environment: ServiceProcess.testEnvironment(injected))
        try await node.waitUntilReady()
        let warnings = node.output.split(separator: "\n").filter { $0.contains("ignoring environment variables") }
        #expect(warnings.count == 1)
        #expect(injected.keys.allSatisfy { warnings.first?.contains($0) == true })
        await node.stop()
    }
}
