import Foundation
import NIOCore

/// The fan-out run of `sockets`: changes of the sockets' own users at `rate` per second for
/// `seconds`, open loop (``RateLoad``: each PUT at its moment on keep-alive connections to the
/// node at `port`, whatever the answers before it took), each naming itself and its due time
/// in its message. Every subscribed socket tallies each delivery's delay (receive − due); a
/// change answered 2xx is owed to each of its user's subscribers, and what did not arrive
/// within `drain` seconds of the last answer is lost.
struct SocketFanout {
    let port: Int
    let token: String
    let prefix: String
    let population: Int
    let rate: Double
    let seconds: Double
    let drain: Double
    let connections: Int
    let plan: SubscriptionPlan

    func measure(_ fleets: SocketFleets) async throws -> [String: Any] {
        // Whom each change is owed to: the subscribers of its user (change `seq` is user `seq % population`).
        var subscribers = [Int](repeating: 0, count: population)
        let subscribed = try await fleets.each({ $0.subscribed() }).joined()
        for number in subscribed {
            for target in plan.targets(of: number) { subscribers[target] += 1 }
        }
        let changes = RateSchedule(rate: rate, seconds: seconds, start: .now(), users: population).count
        _ = try await fleets.each { $0.beginFanout(changes: changes) }

        let settings = RateClientSettings(
            port: port, sources: 4, maxConnections: connections, maxConnecting: 32, warmConnections: 64,
            timeout: .seconds(10), lateBound: .milliseconds(1))
        let load = RateLoad(
            shape: RateRequestShape(changesOf: prefix, token: token, ttl: 3600), settings: settings, threads: 1,
            p99LimitMs: 50)
        let result = try await load.run(rate: rate, seconds: seconds, users: population)

        let unacknowledged = Set(result.tally.unacknowledged)
        let owed = (0..<changes).reduce(0) { $0 + (unacknowledged.contains($1) ? 0 : subscribers[$1 % population]) }
        let deadline = ContinuousClock.now + .seconds(drain)
        while ContinuousClock.now < deadline, try await fleets.each({ $0.fanoutDeliveries() }).reduce(0, +) < owed {
            try await Task.sleep(for: .milliseconds(100))
        }
        var tally = FanoutTally(changes: changes)
        for fleet in try await fleets.each({ $0.fanoutTally() }) { if let fleet { tally.merge(fleet) } }

        var lost = 0
        var duplicates = 0
        var deliveredUnacknowledged = 0
        for seq in 0..<changes {
            let expected = unacknowledged.contains(seq) ? 0 : subscribers[seq % population]
            let received = Int(tally.received[seq])
            if unacknowledged.contains(seq) {
                deliveredUnacknowledged += received
            } else {
                lost += max(0, expected - received)
                duplicates += max(0, received - expected)
            }
        }
        let delay = Percentiles(tally.latenciesMs)
        let sinceUpdated = Percentiles(tally.sinceUpdatedMs)
        let driver = (try? JSONSerialization.jsonObject(with: Data(result.json.utf8))) ?? result.json
        return [
            "rate": rate, "seconds": seconds, "changes": changes, "acknowledged": changes - unacknowledged.count,
            "subscribed_sockets": subscribed.count,
            "expected_events": owed, "received_events": tally.latenciesMs.count, "events_lost": lost,
            "duplicates": duplicates, "delivered_for_unacknowledged": deliveredUnacknowledged, "strays": tally.strays,
            "other_frames": tally.otherFrames,
            "p50_ms": rounded(delay.at(0.5)), "p99_ms": rounded(delay.at(0.99)), "max_ms": rounded(delay.at(1)),
            "since_updated_at_p50_ms": rounded(sinceUpdated.at(0.5)), "since_updated_at_p99_ms": rounded(sinceUpdated.at(0.99)),
            "since_updated_at_max_ms": rounded(sinceUpdated.at(1)), "driver": driver,
        ]
    }
}
