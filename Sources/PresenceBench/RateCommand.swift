import ArgumentParser

/// `presence-bench rate`: an open-loop heartbeat load. Heartbeats are offered at a fixed rate,
/// each at its scheduled moment whatever the answers before it took (wrk's `delay()` waits for
/// answers and so offers less when the node slows down); latency is measured from the
/// scheduled moment. Prints one JSON line.
struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Offer heartbeats at a fixed rate (open loop) and report latency and errors.")

    @OptionGroup var options: RateOptions
    @Option(help: "Heartbeats per second offered.") var rate: Double
    @Option(help: "Seconds of offering.") var seconds: Double = 20
    @Option(help: "The user of the first request (the others follow in order, cycling).") var firstUser: Int = 0
    @Option(
        help: """
            Make each user's first request a PUT of status online with this TTL (seconds), so that \
            every user exists, online, one period before its first heartbeat.
            """)
    var startOnlineTTL: Int?

    func validate() throws {
        guard rate > 0, seconds > 0 else { throw ValidationError("--rate and --seconds must be positive") }
    }

    func run() async throws {
        raiseOpenFileLimit()
        let load = options.load(startOnlineTTL: startOnlineTTL)
        let result = try await load.run(rate: rate, seconds: seconds, users: options.users, firstUser: firstUser)
        print(result.json)
    }
}
