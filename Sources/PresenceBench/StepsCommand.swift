import ArgumentParser
import Foundation

/// `presence-bench steps`: the highest offered heartbeat rate a node holds. Runs the open-loop
/// load (`rate`) at each of `rates` in turn, ascending, for `seconds` each with a pause
/// between (the node drains what it owes), and stops after the first rate it does not hold
/// (a rate is held when every request got a 2xx and p99 ≤ `--p99-limit-ms`). Each step's JSON
/// goes to stderr as it ends; stdout gets one line: `max_held_per_second` (null when none
/// held) and every step.
struct StepsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steps", abstract: "Find the highest open-loop heartbeat rate a node holds.")

    @OptionGroup var options: RateOptions
    @Option(help: "Rates to try, ascending, comma-separated (per second).")
    var rates: String = "2500,5000,7500,10000,15000,20000,25000,30000,40000"
    @Option(help: "Seconds at each rate.") var seconds: Double = 5
    @Option(help: "Seconds of pause between steps.") var pause: Double = 2
    @Option(help: "Runs of a step before it counts as not held (a noisy neighbour can spoil one).")
    var attempts: Int = 1

    func validate() throws {
        guard !steps.isEmpty, steps.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--rates takes positive numbers, comma-separated")
        }
        guard seconds > 0, attempts > 0 else { throw ValidationError("--seconds and --attempts must be positive") }
    }

    private var steps: [Double] { rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        raiseOpenFileLimit()
        let load = options.load()
        var held: Double?
        var lines: [String] = []
        var firstUser = 0
        for rate in steps.sorted() {
            var result: RateResult?
            for attempt in 1...attempts {
                if !lines.isEmpty || attempt > 1 { try await Task.sleep(for: .seconds(pause)) }
                let run = try await load.run(rate: rate, seconds: seconds, users: options.users, firstUser: firstUser)
                // The next run goes on with the next users, as a real population's heartbeats would.
                firstUser = (firstUser + run.schedule.count) % options.users
                lines.append(run.json)
                FileHandle.standardError.write(Data((run.json + "\n").utf8))
                result = run
                if run.held { break }
            }
            guard let result, result.held else { break }
            held = rate
        }
        print(#"{"max_held_per_second":\#(held.map { String(Int($0)) } ?? "null"),"p99_limit_ms":\#(options.p99LimitMs),"step_seconds":\#(seconds),"steps":[\#(lines.joined(separator: ","))]}"#)
    }
}
