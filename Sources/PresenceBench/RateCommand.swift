import ArgumentParser
import Foundation

/// `presence-bench rate`: an open-loop heartbeat load. Heartbeats are offered at a fixed rate,
/// each at its scheduled moment whatever the answers before it took (wrk's `delay()` waits for
/// answers and so offers less when the node slows down); latency is measured from the
/// scheduled moment. Prints one JSON line. With `--changes-ttl` it offers changes (PUTs)
/// instead, and `--misses-out` names every request that was not acknowledged.
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
    @Option(
        help: """
            Send changes instead of heartbeats: request i is a PUT to its user of status busy, \
            message 'bench <i> <due, µs since the epoch>' and this TTL (seconds), so that an \
            acknowledged write can be read back and recognised.
            """)
    var changesTTL: Int?
    @Option(
        help: """
            Write every request that got no 2xx answer to this file, one JSON line each (index, \
            status or timeout/socket/unsent, latency): every other request was acknowledged.
            """)
    var missesOut: String?

    func validate() throws {
        guard rate > 0, seconds > 0 else { throw ValidationError("--rate and --seconds must be positive") }
        if let changesTTL, changesTTL <= 0 { throw ValidationError("--changes-ttl must be positive") }
    }

    func run() async throws {
        raiseOpenFileLimit()
        let load = options.load(startOnlineTTL: startOnlineTTL, changesTTL: changesTTL)
        let result = try await load.run(rate: rate, seconds: seconds, users: options.users, firstUser: firstUser)
        if let missesOut {
            let lines = result.tally.misses.sorted { $0.index < $1.index }.map { $0.json + "\n" }.joined()
            try lines.write(toFile: missesOut, atomically: true, encoding: .utf8)
        }
        print(result.json)
    }
}
