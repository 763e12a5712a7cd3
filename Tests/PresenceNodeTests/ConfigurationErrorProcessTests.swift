import Foundation
import Testing

/// `presence serve` as a new user meets its mistakes (issue 28): a configuration mistake
/// exits 2 with one line naming our key before any nats-server starts, and nats-server says
/// nothing about the configuration file the node writes for it.
@Suite("configuration errors as a process", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct ConfigurationErrorProcessTests {
    /// The mistakes, and what the one line must say.
    static let mistakes: [(name: String, arguments: [String], environment: [String: String], expected: [String])] = [
        ("hub URL without a scheme", ["--role", "leaf", "--hub", "center:7422"], [:],
            ["'nats.hub_urls' (command line): 'center:7422' has no scheme: write nats-leaf://center:7422"]),
        ("missing leaf TLS file", [],
            ["PRESENCE_NATS_LEAF_TLS_CERT_FILE": "/nonexistent/leaf.pem", "PRESENCE_NATS_LEAF_TLS_KEY_FILE": "/nonexistent/leaf.key"],
            ["invalid value for 'nats.leaf_tls.cert_file': /nonexistent/leaf.pem: no such file"]),
        ("Kubernetes service link", [], ["PRESENCE_NATS_LEAFNODE_PORT": "tcp://10.0.0.1:7422"],
            ["PRESENCE_NATS_LEAFNODE_PORT", "Kubernetes service link", "enableServiceLinks: false", "'nats.leafnode_port'"]),
    ]

    @Test(arguments: 0..<mistakes.count)
    func aConfigurationMistakeExitsTwoWithOneLineNamingTheKey(_ index: Int) async throws {
        let mistake = Self.mistakes[index]
        let service = try ServiceProcess.serve(
            dataDirectory: TemporaryDirectory.make(), extraArguments: mistake.arguments,
            environment: ServiceProcess.testEnvironment().merging(mistake.environment) { $1 })
        let status = await service.waitForExit()
        #expect(status == 2, "\(mistake.name): \(service.output)")
        let lines = service.output.split(separator: "\n").filter { $0.hasPrefix("presence: ") }
        #expect(lines.count == 1, "\(mistake.name): \(service.output)")
        let line = lines.first.map(String.init) ?? ""
        for text in mistake.expected {
            #expect(line.contains(text), "\(mistake.name): \(line)")
        }
        #expect(!service.output.contains("nats-server.conf"), "nats-server's words about its file: \(service.output)")
        #expect(service.natsServerPID == nil, "no nats-server was started")
    }

    @Test func natsServerDoesNotWarnAboutTheFileTheNodeWrites() async throws {
        let service = try ServiceProcess.serve(dataDirectory: TemporaryDirectory.make(), extraArguments: ["--dev"], environment: [
            "PRESENCE_NATS_CLIENT_PORT": "0", "PRESENCE_NATS_LEAFNODE_PORT": "0",
        ])
        try await service.waitUntilReady()
        await service.stop()
        let output = service.output
        #expect(output.contains("nats-server started"))
        #expect(!output.contains("Plaintext passwords"), "\(output)")
        let warnings = output.split(separator: "\n").filter { $0.contains("component=nats-server") && $0.contains("level=warning") }
        #expect(warnings.isEmpty, "\(warnings.joined(separator: "\n"))")
    }
}
