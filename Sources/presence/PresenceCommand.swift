import ArgumentParser
import PresenceHTTP

/// `presence`: the swift-presence command line.
@main
struct PresenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "A distributed user-presence service on NATS JetStream KV.",
        version: ServiceVersion.current,
        subcommands: [ServeCommand.self, TokenCommand.self, DemoCommand.self, BackupCommand.self, RestoreCommand.self, AuditCommand.self],
        defaultSubcommand: ServeCommand.self)
}
