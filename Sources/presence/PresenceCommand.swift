import ArgumentParser

/// `presence`: the swift-presence command line.
@main
struct PresenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "A distributed user-presence service on NATS JetStream KV.",
        subcommands: [ServeCommand.self, TokenCommand.self, DemoCommand.self],
        defaultSubcommand: ServeCommand.self)
}
