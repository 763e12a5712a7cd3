import Foundation
import NIOConcurrencyHelpers

/// What one writer saw: each acknowledged write (its user, who holds its own name as the
/// message) and each failure, with the moment of the answer.
final class WriteLog: Sendable {
    private struct Entries {
        var acknowledged: [(at: ContinuousClock.Instant, user: String)] = []
        var failures: [(at: ContinuousClock.Instant, cause: String)] = []
        var longest = Duration.zero
    }

    private let entries = NIOLockedValueBox(Entries())
    private let stopped = NIOLockedValueBox(false)

    var acknowledgedUsers: [String] { entries.withLockedValue { $0.acknowledged.map(\.user) } }
    var failureCount: Int { entries.withLockedValue { $0.failures.count } }
    /// The longest time a write took to be answered.
    var longestAnswer: Duration { entries.withLockedValue { $0.longest } }

    /// When writes were steadily acknowledged again after `moment`: the first of `streak`
    /// acknowledgements in a row with no failure between them, as a delay from `moment` (a
    /// write that was in flight at `moment` and acknowledged just after does not count as
    /// the end of an outage that follows it).
    func recovery(after moment: ContinuousClock.Instant, streak: Int = 20) -> Duration? {
        entries.withLockedValue { entries in
            let answers = (entries.acknowledged.map { ($0.at, true) } + entries.failures.map { ($0.at, false) })
                .filter { $0.0 > moment }.sorted { $0.0 < $1.0 }
            var start: ContinuousClock.Instant?
            var count = 0
            for (at, acknowledged) in answers {
                guard acknowledged else {
                    start = nil
                    count = 0
                    continue
                }
                if start == nil { start = at }
                count += 1
                if count >= streak, let start { return start - moment }
            }
            return nil
        }
    }

    /// Failures after `moment`, for the report.
    func failureCauses(after moment: ContinuousClock.Instant) -> [String] {
        entries.withLockedValue { $0.failures.filter { $0.at > moment }.map(\.cause) }
    }

    func stop() { stopped.withLockedValue { $0 = true } }

    /// PUTs `<prefix>-0`, `<prefix>-1`, … (each once, message = its own name) through `port`
    /// until ``stop()``, recording every answer.
    func write(through port: Int, prefix: String, token: String) async {
        var index = 0
        while !stopped.withLockedValue({ $0 }) {
            let user = "\(prefix)-\(index)"
            index += 1
            let outcome: Result<Int, any Error>
            let sent = ContinuousClock.now
            do {
                let (status, _) = try await HTTP.request(
                    "PUT", port: port, path: "/api/v2/presence/\(user)", headers: ["Authorization": "Bearer \(token)"],
                    body: #"{"status":"online","message":"\#(user)"}"#)
                outcome = .success(status)
            } catch {
                outcome = .failure(error)
            }
            let now = ContinuousClock.now
            entries.withLockedValue { entries in
                entries.longest = max(entries.longest, now - sent)
                switch outcome {
                case .success(let status) where status == 200 || status == 201: entries.acknowledged.append((now, user))
                case .success(let status): entries.failures.append((now, "HTTP \(status)"))
                case .failure(let error): entries.failures.append((now, "\(error)"))
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// GETs `path` through `port` until ``stop()``; every answer but 200 is a failure.
    func read(through port: Int, path: String) async {
        while !stopped.withLockedValue({ $0 }) {
            let status = (try? await HTTP.request("GET", port: port, path: path))?.0 ?? 0
            if status != 200 {
                let now = ContinuousClock.now
                entries.withLockedValue { $0.failures.append((now, "HTTP \(status)")) }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
