import Foundation

/// A stock nats-server run by a test as somebody else would run it (an operator's existing
/// NATS, a foreign leaf), with output discarded; stopped by ``stop()``.
final class PlainNATSServer {
    private let process: Process

    /// Starts `nats-server <arguments>` from `PATH`.
    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["nats-server"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// A nats-server with JetStream on `port`, standing in for an operator's existing NATS.
    static func withJetStream(port: Int) throws -> PlainNATSServer {
        try PlainNATSServer(arguments: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", TemporaryDirectory.make()])
    }

    /// A nats-server on `port` that joins `hub` as a leaf node with no credentials, as an
    /// attacker who reaches the leafnode port would run it.
    static func foreignLeaf(of hub: String, port: Int) throws -> PlainNATSServer {
        let config = TemporaryDirectory.make() + "/rogue.conf"
        try """
        host: "127.0.0.1"
        port: \(port)
        leafnodes { reconnect: 1, remotes: [ { urls: ["\(hub)"] } ] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return try PlainNATSServer(arguments: ["-c", config])
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
