import ArgumentParser
import Foundation
import Logging
import PresenceNode
import ServiceLifecycle

/// `presence serve`: runs a node until SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run a presence node (a standalone center by default).")

    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "center or leaf.") var role: String?
    @Option(name: .customLong("node-id"), help: "This node's id (default: host name).") var nodeID: String?
    @Option(name: .customLong("http-port"), help: "HTTP port (default 8080).") var httpPort: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String?
    @Option(help: "Leafnode URL of the center (repeatable); for --role leaf.") var hub: [String] = []
    @Option(name: .customLong("nats-url"), help: "Use this existing NATS instead of an embedded nats-server.")
    var natsURL: String?
    @Flag(help: "Development mode: generate and keep a JWT secret when none is configured.") var dev = false

    func run() async throws {
        var flags: [String: String] = [:]
        flags["service.role"] = role
        flags["service.node_id"] = nodeID
        flags["service.http.port"] = httpPort.map(String.init)
        flags["nats.data_dir"] = dataDir
        if !hub.isEmpty { flags["nats.hub_urls"] = hub.joined(separator: ",") }
        if let natsURL {
            flags["nats.url"] = natsURL
            flags["nats.embedded"] = "false"
        }
        var configuration = try CommandSupport.loadConfiguration(file: config, flags: flags)
        configuration.developmentMode = dev
        let (level, format) = (configuration.logLevel, configuration.logFormat)
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
        var logger = Logger(label: "presence")
        logger[metadataKey: "node_id"] = "\(configuration.nodeID)"
        if !configuration.ignoredEnvironmentVariables.isEmpty {
            logger.warning(
                "ignoring environment variables that name no configuration key",
                metadata: ["variables": "\(configuration.ignoredEnvironmentVariables.joined(separator: ","))"])
        }
        let node: PresenceNode
        do {
            node = try await PresenceNode.make(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            CommandSupport.fail("\(error)")
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.info(
            "presence node started; starting HTTP",
            metadata: [
                "role": "\(configuration.role.rawValue)",
                "http": "\(configuration.httpHost):\(configuration.httpPort)",
            ])
        // Graceful shutdown on SIGTERM/SIGINT, bounded: whatever has not finished after 10 s
        // (say a stream blocked on a client that stopped reading) is cancelled.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [node.application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        // The node holds the data-directory lock: it must live until the services have stopped.
        defer { withExtendedLifetime(node) {} }
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}
