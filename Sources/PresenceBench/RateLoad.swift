import NIOCore
import NIOPosix

/// Runs an open-loop schedule over `threads` event loops (each sends every `threads`th
/// request on connections of its own) and merges what they saw.
struct RateLoad: Sendable {
    var shape: RateRequestShape
    var settings: RateClientSettings
    var threads = 1
    /// The p99 (milliseconds) at or under which a run holds its rate.
    var p99LimitMs: Double = 10

    /// Offers `rate` requests per second for `seconds`, starting with user `firstUser`.
    func run(rate: Double, seconds: Double, users: Int, firstUser: Int = 0) async throws -> RateResult {
        let lanes = max(1, threads)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: lanes)
        // Time for the warm connections before the first request is due.
        let schedule = RateSchedule(
            rate: rate, seconds: seconds, start: .now() + .milliseconds(300), users: users, firstUser: firstUser)
        let (shape, settings) = (self.shape, self.settings)
        let runs = (0..<lanes).map { lane in
            let loop = group.next()
            return loop.flatSubmit {
                RateLoop(eventLoop: loop, schedule: schedule, shape: shape, settings: settings, lane: lane, lanes: lanes)
                    .run()
            }
        }
        var tally = RateTally()
        do {
            for run in runs { tally.merge(try await run.get()) }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        return RateResult(schedule: schedule, tally: tally, p99LimitMs: p99LimitMs)
    }
}
