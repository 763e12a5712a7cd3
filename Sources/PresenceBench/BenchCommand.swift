import ArgumentParser

/// `presence-bench`: the measurements `bench/run` needs that wrk cannot make.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence-bench",
        abstract: "Benchmark helpers for swift-presence (used by bench/run).",
        subcommands: [
            SeedCommand.self, PublishCommand.self, PropagationCommand.self, FanoutCommand.self, OfflineCommand.self,
            FailoverCommand.self, RateCommand.self, StepsCommand.self, OfflineWatchCommand.self, SocketsCommand.self,
            SocketsOfflineCommand.self,
        ])
}
