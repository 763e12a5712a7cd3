import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import PresenceCore

/// `presence-bench offline`: time-to-offline. Users write `online` with a short TTL on one
/// node and send a last heartbeat, spread over a few seconds; nobody heartbeats again. Each
/// user's deadline is the heartbeat's `updated_at` + TTL (the server's clock; this machine's).
/// Reports how late after the deadline the `offline` event arrived on a stream on another node,
/// and checks reads on that node around each deadline: a read answered before the deadline
/// must say online, a read sent after it must say offline (reads are exact, not swept).
struct OfflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline", abstract: "Measure time-to-offline on a stream and on reads of another node.")

    @Option(help: "HTTP port of the node the users write to.") var writer: Int
    @Option(help: "HTTP port of the node streamed and read.") var reader: Int
    @Option(help: "An admin token.") var token: String
    @Option(help: "How many users.") var users: Int = 200
    @Option(help: "TTL of the users' presence, seconds (at least 10).") var ttl: Int = 10
    @Option(help: "Seconds over which the last heartbeats are spread.") var spread: Double = 4

    func run() throws {
        let names = (0..<users).map { "gone\($0)" }
        let offlineEvents = NIOLockedValueBox([String: Double]())
        let client = try LoopbackSocket(port: writer)
        for name in names {  // online first, so the stream's snapshot has them online
            try put(client, "PUT", "/api/v2/presence/\(name)", body: #"{"status":"online","ttl":\#(ttl)}"#)
        }
        let stream = try LoopbackSocket(port: reader)
        try stream.send("GET /api/v2/presence/stream?users=\(names.joined(separator: ",")) HTTP/1.1\r\nHost: x\r\n\r\n")
        readDataLines(from: stream.descriptor, clock: wallMillis) { line, arrived in
            guard line.contains(#""status":"offline""#), let user = EventFields.userID(in: line) else { return }
            offlineEvents.withLockedValue { if $0[user] == nil { $0[user] = arrived } }
        }
        Thread.sleep(forTimeInterval: 0.5)

        // The last heartbeat of each user, evenly over `spread` seconds.
        var deadlines: [(user: String, at: Double)] = []
        let gap = spread / Double(users)
        let began = monotonicMicros()
        for (index, name) in names.enumerated() {
            let due = began + Double(index) * gap * 1e6
            while monotonicMicros() < due { usleep(200) }
            let body = try put(client, "POST", "/api/v2/presence/\(name)/heartbeat", body: nil)
            guard let stamp = EventFields.updatedAt(in: body), let updated = Timestamp(rfc3339: stamp) else {
                throw BenchError("heartbeat answer without updated_at: \(body)")
            }
            deadlines.append((name, Double(updated.millisecondsSinceEpoch + Int64(ttl) * 1000)))
        }

        // Reads on the other node around each deadline, in deadline order.
        let reads = try LoopbackSocket(port: reader)
        var readLateness: [Double] = []
        var early = 0
        var stale = 0
        for (user, deadline) in deadlines {
            while wallMillis() < deadline - 3 { usleep(200) }
            while true {
                let sent = wallMillis()
                let body = try get(reads, "/api/v2/presence/\(user)")
                let received = wallMillis()
                let offline = body.contains(#""status":"offline""#)
                if offline && received < deadline { early += 1 }
                if !offline && sent > deadline + 1 { stale += 1 }
                if offline {
                    readLateness.append(max(0, received - deadline))
                    break
                }
                if received > deadline + 5000 { break }
            }
        }

        let last = deadlines.map(\.at).max() ?? wallMillis()
        while wallMillis() < last + 15_000, offlineEvents.withLockedValue({ $0.count }) < users { usleep(10_000) }
        let events = offlineEvents.withLockedValue { $0 }
        let lateness = Percentiles(deadlines.compactMap { entry in events[entry.user].map { $0 - entry.at } })
        let reading = Percentiles(readLateness)
        print(
            #"{"users":\#(users),"ttl_s":\#(ttl),"stream_events":\#(lateness.count),"stream_p50_ms":\#(lateness.at(0.5)),"stream_p99_ms":\#(lateness.at(0.99)),"stream_max_ms":\#(lateness.at(1)),"reads_offline":\#(reading.count),"read_p50_ms":\#(reading.at(0.5)),"read_p99_ms":\#(reading.at(0.99)),"reads_offline_before_deadline":\#(early),"reads_online_after_deadline":\#(stale)}"#
        )
        withExtendedLifetime(stream) {}
    }

    @discardableResult
    private func put(_ client: LoopbackSocket, _ method: String, _ path: String, body: String?) throws -> String {
        let payload = body ?? ""
        try client.send(
            "\(method) \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(payload.utf8.count)\r\n\r\n\(payload)"
        )
        let (status, response) = try client.readResponse()
        let text = String(decoding: response, as: UTF8.self)
        guard status == 200 else { throw BenchError("\(method) \(path) answered \(status): \(text)") }
        return text
    }

    private func get(_ client: LoopbackSocket, _ path: String) throws -> String {
        try client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        let (status, response) = try client.readResponse()
        let text = String(decoding: response, as: UTF8.self)
        guard status == 200 else { throw BenchError("GET \(path) answered \(status): \(text)") }
        return text
    }
}
