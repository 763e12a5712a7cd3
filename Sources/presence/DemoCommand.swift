import ArgumentParser
import EmbeddedNATS
import Foundation
import PresenceHTTP
import PresenceNode
import Synchronization

/// `presence demo`: a center and two leaves on this machine, until Ctrl-C.
///
/// HTTP on `--base-port` (8080) and the two ports after it; every NATS port (clients, the
/// center's leafnode port) is assigned by the OS, so the demo runs beside another node or
/// demo on the usual ports. The leaves learn the center's leafnode port from its log.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a center and two leaves on this machine (HTTP 8080, 8081, 8082, or from --base-port) until Ctrl-C.")

    @Option(name: .customLong("data-dir"), help: "Where the three nodes keep their data.") var dataDir = "./demo-data"
    @Option(name: .customLong("base-port"), help: "HTTP port of the center; the leaves take the next two.")
    var basePort = 8080

    func validate() throws {
        guard (1...65_533).contains(basePort) else { throw ValidationError("--base-port must be between 1 and 65533") }
    }

    private struct Node {
        let name: String
        let httpPort: Int
        let arguments: [String]
        let environment: [String: String]
    }

    func run() async throws {
        let root = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let secret = try ProcessInfo.processInfo.environment["JWT_SECRET"]
            ?? DevelopmentSecret.readOrCreate(dataDirectory: root)
        let center = Node(
            name: "center", httpPort: basePort,
            arguments: ["--role", "center", "--node-id", "center", "--http-port", String(basePort), "--data-dir", root + "/center"],
            environment: ["PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0"])
        let leaf = { (index: Int, leafnodePort: Int) in
            Node(
                name: "leaf-\(index)", httpPort: basePort + index,
                arguments: [
                    "--role", "leaf", "--node-id", "leaf-\(index)", "--http-port", String(basePort + index),
                    "--data-dir", root + "/leaf-\(index)", "--hub", "nats-leaf://127.0.0.1:\(leafnodePort)",
                ],
                environment: ["PRESENCE_NATS_CLIENT_PORT": "0"])
        }
        var nodes = [center]
        var leafnodePort = 0

        // Ctrl-C reaches the whole process group; SIGTERM is forwarded. Either way every node
        // shuts down gracefully (and stops its own nats-server) before the demo exits.
        DemoSignals.install()
        var processes: [Process] = []
        // SIGTERM, then SIGKILL for a node still running after 20 s; returns once all are gone.
        let stopAll: @Sendable ([Process]) -> Void = { processes in
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
            let deadline = ContinuousClock.now + .seconds(20)
            while processes.contains(where: \.isRunning) && ContinuousClock.now < deadline { usleep(50_000) }
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        do {
            processes.append(try launch(center, root: root, secret: secret))
            try await waitUntilReady(center, process: processes[0], root: root)
            leafnodePort = try Self.leafnodePort(loggedIn: root + "/center/service.log")
            nodes += (1...2).map { leaf($0, leafnodePort) }
            for node in nodes.dropFirst() { processes.append(try launch(node, root: root, secret: secret)) }
            for (node, process) in zip(nodes.dropFirst(), processes.dropFirst()) {
                try await waitUntilReady(node, process: process, root: root)
            }
        } catch {
            stopAll(processes)
            for process in processes { process.waitUntilExit() }
            throw error
        }

        let token = try await TokenIssuer(secret: secret).token(subject: "alice", lifetime: 86_400)
        print(
            """
            swift-presence demo: a center and two leaves are running.
              center  http://localhost:\(basePort)   (NATS leafnode port \(leafnodePort))
              leaf-1  http://localhost:\(basePort + 1)
              leaf-2  http://localhost:\(basePort + 2)
            Logs: \(root)/<node>/service.log

            A token for user alice (24 h):
              export TOKEN=\(token)
            Write on leaf-1, read on leaf-2, watch live on the center:
              curl -s -X PUT localhost:\(basePort + 1)/api/v2/presence/alice -H "Authorization: Bearer $TOKEN" \\
                   -H 'Content-Type: application/json' -d '{"status":"busy","message":"In a meeting"}'
              curl -s localhost:\(basePort + 2)/api/v2/presence/alice
              curl -N 'localhost:\(basePort)/api/v2/presence/stream?users=alice'
            More tokens: presence token --sub bob --data-dir \(root)
            Press Ctrl-C to stop all three nodes.
            """)
        fflush(nil)

        while !DemoSignals.stopRequested.load(ordering: .relaxed) {
            if let dead = zip(nodes, processes).first(where: { !$0.1.isRunning }) {
                print("\(dead.0.name) stopped unexpectedly (exit \(dead.1.terminationStatus)); see its service.log")
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        print("Stopping the demo...")
        fflush(nil)
        stopAll(processes)
        for process in processes { process.waitUntilExit() }
        print("All nodes stopped.")
    }

    /// The leafnode port the center's nats-server was given, from its "nats-server started"
    /// log line (logfmt `leafnode_port=N` or JSON `"leafnode_port":"N"`).
    static func leafnodePort(loggedIn path: String) throws -> Int {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.contains("nats-server started") {
            guard let range = line.range(of: "leafnode_port") else { continue }
            let digits = line[range.upperBound...].drop { !$0.isNumber }.prefix { $0.isNumber }
            if let port = Int(digits), port > 0 { return port }
        }
        throw ValidationError("the center did not log its leafnode port; see \(path)")
    }

    private func launch(_ node: Node, root: String, secret: String) throws -> Process {
        let directory = root + "/" + node.name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = directory + "/service.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
        process.arguments = ["serve"] + node.arguments
        var environment = ProcessInfo.processInfo.environment
        environment["JWT_SECRET"] = secret
        environment.merge(node.environment) { $1 }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    private func waitUntilReady(_ node: Node, process: Process, root: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if DemoSignals.stopRequested.load(ordering: .relaxed) { throw ExitCode(130) }
            guard process.isRunning else {
                throw ValidationError("\(node.name) failed to start; see \(root)/\(node.name)/service.log")
            }
            if await MonitorClient.get(port: node.httpPort, path: "/health/ready") != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("\(node.name) did not become ready within 30 s; see \(root)/\(node.name)/service.log")
    }
}

/// SIGINT and SIGTERM for the demo: a plain handler that only sets a flag, which the demo
/// polls (it also polls its children), so no signal machinery has to cooperate with
/// Foundation's process management.
enum DemoSignals {
    static let stopRequested = Atomic<Bool>(false)

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in DemoSignals.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
