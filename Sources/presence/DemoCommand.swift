import ArgumentParser
import EmbeddedNATS
import Foundation
import PresenceAuth
import PresenceNode
import Synchronization

/// `presence demo`: a center and two leaves on this machine, until Ctrl-C; with
/// `--centers 3`, a clustered center of three (the bucket kept with three replicas).
///
/// HTTP on `--base-port` (8080: the first center) and the two ports after it (the leaves);
/// further centers take the ports after the leaves. Every NATS client and leafnode port is
/// assigned by the OS, so the demo runs beside another node or demo on the usual ports; the
/// leaves learn the centers' leafnode ports from their logs. Route ports between clustered
/// centers are free ports found at start.
///
/// A node that dies is reported and the others keep running, so the demo shows failover;
/// typing `restart <node>` starts it again on the same ports.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a center and two leaves on this machine (HTTP 8080, 8081, 8082, or from --base-port) until Ctrl-C.")

    @Option(name: .customLong("data-dir"), help: "Where the three nodes keep their data.") var dataDir = "./demo-data"
    @Option(name: .customLong("base-port"), help: "HTTP port of the (first) center; the leaves take the next two.")
    var basePort = 8080
    @Option(help: "Centers: 1 (standalone) or 3 (a clustered center, the bucket kept with three replicas).")
    var centers = 1

    func validate() throws {
        guard [1, 3].contains(centers) else { throw ValidationError("--centers must be 1 or 3") }
        guard (1...(65_535 - centers - 1)).contains(basePort) else {
            throw ValidationError("--base-port must leave room for \(centers + 2) HTTP ports")
        }
    }

    /// HTTP port of center `index` (0-based): the first on the base port, the others after the leaves.
    private func centerHTTPPort(_ index: Int) -> Int { index == 0 ? basePort : basePort + 2 + index }

    private struct Node {
        let name: String
        let httpPort: Int
        let arguments: [String]
        var environment: [String: String]
    }

    func run() async throws {
        let root = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let secret = try ProcessInfo.processInfo.environment["JWT_SECRET"]
            ?? DevelopmentSecret.readOrCreate(dataDirectory: root)
        let routePorts = centers > 1 ? try FreePorts.take(centers) : []
        let routes = routePorts.flatMap { ["--route", "nats-route://127.0.0.1:\($0)"] }
        let centerNodes = (0..<centers).map { index in
            let name = centers == 1 ? "center" : "center-\(index + 1)"
            var arguments = [
                "--role", "center", "--node-id", name, "--http-port", String(centerHTTPPort(index)),
                "--data-dir", root + "/" + name,
            ]
            var environment = ["PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0"]
            if centers > 1 {
                arguments += ["--cluster-port", String(routePorts[index])] + routes
                environment["PRESENCE_NATS_REPLICAS"] = "3"
            }
            return Node(name: name, httpPort: centerHTTPPort(index), arguments: arguments, environment: environment)
        }
        let leaf = { (index: Int, leafnodePorts: [Int]) in
            Node(
                name: "leaf-\(index)", httpPort: basePort + index,
                arguments: [
                    "--role", "leaf", "--node-id", "leaf-\(index)", "--http-port", String(basePort + index),
                    "--data-dir", root + "/leaf-\(index)",
                ] + leafnodePorts.flatMap { ["--hub", "nats-leaf://127.0.0.1:\($0)"] },
                environment: ["PRESENCE_NATS_CLIENT_PORT": "0"])
        }
        var nodes = centerNodes
        var leafnodePorts: [Int] = []

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
            // Clustered centers turn ready only together (the bucket needs most of them).
            for node in centerNodes { processes.append(try launch(node, root: root, secret: secret)) }
            for (node, process) in zip(centerNodes, processes) { try await waitUntilReady(node, process: process, root: root) }
            leafnodePorts = try centerNodes.map { try Self.leafnodePort(loggedIn: root + "/\($0.name)/service.log") }
            let leaves = (1...2).map { leaf($0, leafnodePorts) }
            nodes += leaves
            for node in leaves { processes.append(try launch(node, root: root, secret: secret)) }
            for (node, process) in zip(leaves, processes.dropFirst(centers)) {
                try await waitUntilReady(node, process: process, root: root)
            }
        } catch {
            stopAll(processes)
            for process in processes { process.waitUntilExit() }
            if let failure = error as? DemoFailure { CommandSupport.fail(failure.description, exitCode: 1) }
            throw error
        }
        // A restarted center takes the leafnode port it had, so the leaves find it again.
        for (index, port) in leafnodePorts.enumerated() { nodes[index].environment["PRESENCE_NATS_LEAFNODE_PORT"] = String(port) }

        let token = try await TokenIssuer(secret: secret).token(subject: "alice", lifetime: 86_400)
        let centerLines = zip(centerNodes, leafnodePorts).map { node, port in
            "  \(node.name.padding(toLength: 10, withPad: " ", startingAt: 0))http://localhost:\(node.httpPort)   (NATS leafnode port \(port))"
        }.joined(separator: "\n")
        let what = centers == 1 ? "a center" : "a clustered center of \(centers) (bucket replicas: 3)"
        DemoConsole.say(
            """
            swift-presence demo: \(what) and two leaves are running.
            \(centerLines)
              leaf-1    http://localhost:\(basePort + 1)
              leaf-2    http://localhost:\(basePort + 2)
            Logs: \(root)/<node>/service.log

            A token for user alice (24 h):
              export TOKEN=\(token)
            Write on leaf-1, read on leaf-2, watch live on the center:
              curl -s -X PUT localhost:\(basePort + 1)/api/v2/presence/alice -H "Authorization: Bearer $TOKEN" \\
                   -H 'Content-Type: application/json' -d '{"status":"busy","message":"In a meeting"}'
              curl -s localhost:\(basePort + 2)/api/v2/presence/alice
              curl -N 'localhost:\(basePort)/api/v2/presence/stream?users=alice'
            More tokens: presence token --sub bob --data-dir \(root)
            Stop a node (kill its pid) to see failover; `restart <node>` and Enter starts it again.
            Press Ctrl-C to stop all \(nodes.count) nodes.
            """)

        let commands = DemoConsole.lines()
        var reported = Set<String>()
        while !DemoSignals.stopRequested.load(ordering: .relaxed) {
            for (index, node) in nodes.enumerated() where !processes[index].isRunning && !reported.contains(node.name) {
                reported.insert(node.name)
                let alive = processes.filter(\.isRunning).count
                DemoConsole.say(
                    "\(node.name) stopped (exit \(processes[index].terminationStatus)); \(alive) of \(nodes.count) nodes keep running. "
                        + "Type `restart \(node.name)` to start it again; its log: \(root)/\(node.name)/service.log")
            }
            while let line = commands.next() {
                restart(named: line, nodes: nodes, processes: &processes, reported: &reported, root: root, secret: secret)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        DemoConsole.say("Stopping the demo...")
        stopAll(processes)
        for process in processes { process.waitUntilExit() }
        DemoConsole.say("All nodes stopped.")
    }

    /// Starts the node a console line (`restart <node>`) names again, when it is stopped.
    private func restart(
        named line: String, nodes: [Node], processes: inout [Process], reported: inout Set<String>, root: String, secret: String
    ) {
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "restart" else {
            DemoConsole.say("Commands: restart <node> (one of \(nodes.map(\.name).joined(separator: ", "))); Ctrl-C stops the demo.")
            return
        }
        guard let index = nodes.firstIndex(where: { $0.name == words[1] }) else {
            DemoConsole.say("No node \(words[1]); the nodes are \(nodes.map(\.name).joined(separator: ", ")).")
            return
        }
        guard !processes[index].isRunning else {
            DemoConsole.say("\(nodes[index].name) is running.")
            return
        }
        do {
            processes[index] = try launch(nodes[index], root: root, secret: secret)
            reported.remove(nodes[index].name)
            DemoConsole.say("Restarting \(nodes[index].name) (http://localhost:\(nodes[index].httpPort)).")
        } catch {
            DemoConsole.say("Cannot restart \(nodes[index].name): \(error)")
        }
    }

    /// Why a node that exited at start did: the last line it wrote as `presence: <why>` (the
    /// one line of a refused configuration), else the `error` of its last `cannot start` log
    /// line; nil when it wrote neither.
    static func failure(loggedIn path: String) -> String? {
        let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        let prefix = "presence: "
        if let line = lines.last(where: { $0.hasPrefix(prefix) }) { return String(line.dropFirst(prefix.count)) }
        guard let line = lines.last(where: { $0.contains(#"msg="cannot start""#) }),
            let start = line.range(of: #" error=""#)?.upperBound
        else { return nil }
        var reason = ""
        var escaped = false
        for character in line[start...] {
            if escaped {
                reason.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                break
            } else {
                reason.append(character)
            }
        }
        return reason
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
        throw DemoFailure(description: "the center did not log its leafnode port; see \(path)")
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
                let log = "\(root)/\(node.name)/service.log"
                let reason = Self.failure(loggedIn: log).map { ": " + $0 } ?? ""
                throw DemoFailure(description: "\(node.name) failed to start\(reason) (its log: \(log))")
            }
            if await MonitorClient.get(port: node.httpPort, path: "/health/ready") != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoFailure(description: "\(node.name) did not become ready within 30 s; see \(root)/\(node.name)/service.log")
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

/// Free TCP ports on loopback for the demo's routes (found by binding port 0; the small
/// chance that another process takes one before its center binds it is acceptable here).
enum FreePorts {
    static func take(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ValidationError("cannot open a socket to find a free port") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
                }
            }
            guard bound else { throw ValidationError("cannot find a free port on 127.0.0.1") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
