import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The reads of `offline-watch` on one node: every `interval` seconds a batch read
/// (`POST /api/v2/presence/batch`) of the next chunk of watched users, counting the users it
/// answers `offline` and those it does not find. A read that fails (the node is down) is
/// counted as such, not as offline. Blocking: runs on a thread of its own.
struct OfflineBatchReader: Sendable {
    let port: Int
    let chunks: [[String]]
    let interval: Double
    /// Monotonic microseconds after which it stops.
    let deadline: Double

    func run(counts: NIOLockedValueBox<[Int: OfflineWatchCounts]>, note: @escaping @Sendable (Int, String, Substring) -> Void) {
        var socket: LoopbackSocket?
        var round = 0
        var due = monotonicMicros()
        while due < deadline {
            let wait = due - monotonicMicros()
            if wait > 0 { usleep(UInt32(min(wait, 1e6))) ; continue }
            due += interval * 1e6
            let users = chunks[round % chunks.count]
            round += 1
            let body = #"{"user_ids":[\#(users.map { "\"\($0)\"" }.joined(separator: ","))]}"#
            do {
                let client = try socket ?? LoopbackSocket(port: port, receiveTimeout: 10)
                socket = client
                try client.send(
                    "POST /api/v2/presence/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                )
                let (status, response) = try client.readResponse()
                guard status == 200 else { throw BenchError("batch read answered \(status)") }
                let text = String(decoding: response, as: UTF8.self)
                let notFound = text.range(of: #""not_found":["#).map { text[$0.upperBound...].prefix { $0 != "]" } }
                let missing = notFound.map { $0.isEmpty ? 0 : $0.split(separator: ",").count } ?? 0
                var offline = 0
                for record in text.split(separator: "}") where record.contains(#""status":"offline""#) {
                    offline += 1
                    note(port, "read", record)
                }
                counts.withLockedValue {
                    $0[port]?.reads += users.count
                    $0[port]?.readOffline += offline
                    $0[port]?.readNotFound += missing
                }
            } catch {
                socket = nil
                counts.withLockedValue { $0[port]?.readErrors += 1 }
            }
        }
    }
}
