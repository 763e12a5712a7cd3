import Foundation
import Testing

/// A stock nats-server run by a test as somebody else would run it (an operator's existing
/// NATS, a foreign leaf), with output discarded; stopped by ``stop()``.
final class PlainNATSServer {
    private let process: Process
    /// Where a server started with an OS-assigned port reports it (nil: the port was given).
    private var portsDirectory: String?

    /// Starts `nats-server <arguments>`, the binary the tests' nodes run (``TestNATSServer``).
    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [TestNATSServer.path ?? "nats-server"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// A nats-server with JetStream on `port`, standing in for an operator's existing NATS.
    static func withJetStream(port: Int) throws -> PlainNATSServer {
        try PlainNATSServer(arguments: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", TemporaryDirectory.make()])
    }

    /// A nats-server on `port` that joins `hub` as a leaf node with no credentials (or with
    /// `credential`, stolen from a leaf), as an attacker who reaches the leafnode port would run
    /// it; its clients need no credential. Its server name is `name`; its client port is
    /// `port`, or (nil) one the OS assigns, which ``assignedPort()`` tells.
    static func foreignLeaf(
        of hub: String, port: Int? = nil, credential: (user: String, password: String)? = nil, name: String = "rogue"
    ) throws -> PlainNATSServer {
        let directory = TemporaryDirectory.make()
        let config = directory + "/rogue.conf"
        var url = hub
        if let credential, let range = hub.range(of: "://") {
            url = hub[..<range.upperBound] + credential.user + ":" + credential.password + "@" + hub[range.upperBound...]
        }
        try """
        server_name: "\(name)"
        host: "127.0.0.1"
        port: \(port ?? -1)
        ports_file_dir: "\(directory)"
        leafnodes { reconnect: 1, remotes: [ { urls: ["\(url)"] } ] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try PlainNATSServer(arguments: ["-c", config])
        server.portsDirectory = directory
        return server
    }

    /// The client port the OS assigned, once the server reported it (within 5 s).
    func assignedPort() async throws -> Int {
        let directory = try #require(portsDirectory)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if let name = names.first(where: { $0.hasSuffix(".ports") }),
                let data = FileManager.default.contents(atPath: directory + "/" + name),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let url = (json["nats"] as? [String])?.first, let port = url.split(separator: ":").last.flatMap({ Int($0) })
            {
                return port
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the foreign nats-server reported no port")
        throw CancellationError()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
