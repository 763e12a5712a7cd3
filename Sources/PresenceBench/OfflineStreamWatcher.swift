import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// One SSE stream of `offline-watch`: opens `GET /api/v2/presence/stream?users=…` on a node,
/// counts its events and those that show a user `offline`, and opens it again whenever it
/// ends (the node restarted), until the deadline. Blocking: runs on a thread of its own.
struct OfflineStreamWatcher: Sendable {
    let port: Int
    let users: [String]
    /// Monotonic microseconds (``monotonicMicros()``) after which it stops.
    let deadline: Double

    func run(
        counts: NIOLockedValueBox<[Int: OfflineWatchCounts]>, note: @escaping @Sendable (Int, String, Substring) -> Void
    ) {
        let request = "GET /api/v2/presence/stream?users=\(users.joined(separator: ",")) HTTP/1.1\r\nHost: x\r\n\r\n"
        while monotonicMicros() < deadline {
            guard let socket = try? LoopbackSocket(port: port, receiveTimeout: 30), (try? socket.send(request)) != nil else {
                counts.withLockedValue { $0[port]?.streamFailures += 1 }
                usleep(200_000)
                continue
            }
            var pending = ""
            var sawHead = false
            var chunk = [UInt8](repeating: 0, count: 65_536)
            reading: while monotonicMicros() < deadline {
                let count = read(socket.descriptor, &chunk, chunk.count)
                if count <= 0 { break }
                pending += String(decoding: chunk[0..<count], as: UTF8.self)
                if !sawHead {
                    guard let end = pending.range(of: "\r\n\r\n") else { continue }
                    guard pending.hasPrefix("HTTP/1.1 200") else {
                        counts.withLockedValue { $0[port]?.streamFailures += 1 }
                        usleep(1_000_000)
                        break reading
                    }
                    counts.withLockedValue { $0[port]?.streamConnects += 1 }
                    pending.removeSubrange(..<end.upperBound)
                    sawHead = true
                }
                var events = 0
                var offline = 0
                while let newline = pending.range(of: "\n") {
                    let line = pending[..<newline.lowerBound]
                    if line.hasPrefix("data: ") {
                        events += 1
                        if line.contains(#""status":"offline""#) {
                            offline += 1
                            note(port, "stream", line)
                        }
                    }
                    pending.removeSubrange(..<newline.upperBound)
                }
                if events > 0 {
                    counts.withLockedValue {
                        $0[port]?.streamEvents += events
                        $0[port]?.streamOffline += offline
                    }
                }
            }
            usleep(200_000)
        }
    }
}
