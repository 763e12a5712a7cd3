import EmbeddedNATS
import Logging

/// A node's NATS: the connection budget (the open-file limit raised first, so that
/// nats-server has it too), the data directory's lock, and the embedded nats-server.
extension PresenceNode {
    /// The HTTP connection budget, after raising the open-file limit; warns when
    /// `service.http.max_connections` is more than the limit allows.
    static func connectionBudget(_ configuration: NodeConfiguration, logger: Logger) -> ConnectionBudget {
        let connections = ConnectionBudget(configured: configuration.httpMaxConnections, fileLimit: FileLimit.raiseToHardLimit())
        if let configured = connections.reducedFrom {
            logger.warning(
                "service.http.max_connections is more than the open-file limit allows; raise the limit (ulimit -n) or lower the key",
                metadata: ["configured": "\(configured)", "max_connections": "\(connections.maxConnections)"])
        }
        return connections
    }

    /// Locks the data directory of an embedded nats-server: no second node may use it.
    /// - Throws: ``ConfigurationError`` when another process holds it.
    static func lockDataDirectory(_ configuration: NodeConfiguration) throws -> DataDirectoryLock? {
        guard configuration.natsEmbedded else { return nil }
        do {
            return try DataDirectoryLock(directory: configuration.dataDirectory)
        } catch let error as DataDirectoryLock.Error {
            throw ConfigurationError(error.description)
        }
    }

    /// Starts the embedded nats-server (after moving a standalone store out of the way when
    /// the center became clustered); nil with `nats.embedded: false`.
    static func startNATS(_ configuration: NodeConfiguration, logger: Logger) async throws -> NATSServerSupervisor? {
        guard configuration.natsEmbedded else { return nil }
        let embedded = EmbeddedNATSConfiguration(configuration)
        try await StandaloneStoreMigration.exportIfNeeded(embedded, logger: logger)
        let supervisor = NATSServerSupervisor(configuration: embedded, logger: logger)
        do {
            try await supervisor.start()
        } catch let error as NATSServerLocator.NotFound {
            throw ConfigurationError(error.description)
        } catch let error as NATSServerSupervisor.OldServerRefused {
            throw ConfigurationError(error.description)
        } catch {
            try PortClash.check(configuration, only: .nats)
            throw error
        }
        return supervisor
    }
}
