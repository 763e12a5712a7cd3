import Foundation

/// The figures of one open-loop run, as the JSON line `presence-bench rate` prints.
///
/// A run *holds* its rate when every request got a 2xx answer (no non-2xx, no socket error,
/// no timeout, nothing left unsent) and the p99 latency, measured from the scheduled send
/// times, is at most `p99LimitMs`.
struct RateResult: Sendable {
    let schedule: RateSchedule
    let tally: RateTally
    let p99LimitMs: Double

    private var percentiles: Percentiles { Percentiles(tally.latencies) }

    /// Whether the run held its offered rate (see the type's description).
    var held: Bool {
        let p99 = percentiles.at(0.99)
        return tally.non2xx == 0 && tally.errors == 0 && tally.answered2xx == schedule.count && !p99.isNaN
            && p99 <= p99LimitMs
    }

    /// One line of JSON.
    var json: String {
        let sample = percentiles
        let seconds = max(schedule.seconds, 1e-9)
        let statuses = tally.statuses.sorted { $0.key < $1.key }.map { #""\#($0.key)":\#($0.value)"# }
            .joined(separator: ",")
        let fields: [(String, String)] = [
            ("offered_per_second", Self.number(Double(schedule.count) / seconds, digits: 1)),
            ("answered_per_second", Self.number(Double(tally.answered2xx) / seconds, digits: 1)),
            ("p50_ms", Self.number(sample.at(0.5))), ("p99_ms", Self.number(sample.at(0.99))),
            ("max_ms", Self.number(sample.at(1))),
            ("non_2xx", "\(tally.non2xx)"), ("errors", "\(tally.errors)"), ("late_sends", "\(tally.lateSends)"),
            ("held", "\(held)"), ("p99_limit_ms", Self.number(p99LimitMs, digits: 1)),
            ("seconds", Self.number(seconds, digits: 3)), ("scheduled", "\(schedule.count)"), ("sent", "\(tally.sent)"),
            ("answered", "\(tally.answered2xx + tally.non2xx)"), ("statuses", "{\(statuses)}"),
            ("timeouts", "\(tally.timeouts)"), ("socket_errors", "\(tally.socketErrors)"),
            ("connect_errors", "\(tally.connectErrors)"), ("unsent", "\(tally.unsent)"),
            ("connections_opened", "\(tally.connectionsOpened)"), ("peak_connections", "\(tally.peakConnections)"),
        ]
        return "{" + fields.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",") + "}"
    }

    /// A JSON number (null when there is none: no answers, no percentile).
    private static func number(_ value: Double, digits: Int = 3) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "null"
    }
}
