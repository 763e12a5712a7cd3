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
    @Option(help: .init(NodeConfiguration.flagHelp("role"))) var role: String?
    @Option(name: .customLong("node-id"), help: .init(NodeConfiguration.flagHelp("node-id"))) var nodeID: String?
    @Option(name: .customLong("http-port"), help: .init(NodeConfiguration.flagHelp("http-port"))) var httpPort: Int?
    @Option(name: .customLong("data-dir"), help: .init(NodeConfiguration.flagHelp("data-dir"))) var dataDir: String?
    @Option(help: .init(NodeConfiguration.flagHelp("hub") + "; repeatable")) var hub: [String] = []
    @Option(name: .customLong("nats-url"), help: .init(NodeConfiguration.flagHelp("nats-url") + "; implies nats.embedded false"))
    var natsURL: String?
    @Option(name: .customLong("nats-client-port"), help: .init(NodeConfiguration.flagHelp("nats-client-port")))
    var natsClientPort: Int?
    @Option(name: .customLong("leafnode-port"), help: .init(NodeConfiguration.flagHelp("leafnode-port")))
    var leafnodePort: Int?
    @Option(name: .customLong("cluster-port"), help: .init(NodeConfiguration.flagHelp("cluster-port")))
    var clusterPort: Int?
    @Option(help: .init(NodeConfiguration.flagHelp("route") + "; repeatable")) var route: [String] = []
    @Flag(help: "Development mode: generate and keep a JWT secret when none is configured.") var dev = false

    func run() async throws {
        // SIGHUP reloads the token keys once the node runs (HangupReloader); until then (a
        // reloader sidecar firing during a restart) its default action must not end the process.
        signal(SIGHUP, SIG_IGN)
        // By option name; ConfigurationKeys says which key each one sets.
        var options: [String: String] = [:]
        options["role"] = role
        options["node-id"] = nodeID
        options["http-port"] = httpPort.map(String.init)
        options["data-dir"] = dataDir
        if !hub.isEmpty { options["hub"] = hub.joined(separator: ",") }
        options["nats-url"] = natsURL
        options["nats-client-port"] = natsClientPort.map(String.init)
        options["leafnode-port"] = leafnodePort.map(String.init)
        options["cluster-port"] = clusterPort.map(String.init)
        if !route.isEmpty { options["route"] = route.joined(separator: ",") }
        var flags: [String: String]
        do {
            flags = try NodeConfiguration.flagValues(byOption: options)
        } catch {
            CommandSupport.fail("\(error)")
        }
        if natsURL != nil { flags["nats.embedded"] = "false" }
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
            node = try await PresenceNode.make(
                configuration: configuration, logger: logger,
                reloadConfiguration: { [config, flags] in
                    // Not CommandSupport's, which exits on a bad file: a reload that fails changes nothing.
                    try NodeConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment, flags: flags)
                })
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
