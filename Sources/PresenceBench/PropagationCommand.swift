import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// `presence-bench propagation`: write on one node, observe the change on another through
/// its SSE stream; reports the delay from the start of the write to its arrival.
struct PropagationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propagation", abstract: "Measure write-to-observe delay between two nodes.")

    @Option(help: "HTTP port of the node written to.") var writer: Int
    @Option(help: "HTTP port of the node observed.") var reader: Int
    @Option(help: "An admin token.") var token: String
    @Option(help: "How many writes.") var samples: Int = 1000
    @Option(help: "Write this session of each user (PUT …/sessions/<name>) instead of the user's `default`.")
    var session: String?

    func run() throws {
        let users = (0..<100).map { "prop\($0)" }
        let arrivals = NIOLockedValueBox([String: Double]())
        let stream = try LoopbackSocket(port: reader)
        try stream.send("GET /api/v2/presence/stream?users=\(users.joined(separator: ",")) HTTP/1.1\r\nHost: x\r\n\r\n")
        readDataLines(from: stream.descriptor, clock: monotonicMicros) { line, arrived in
            if let key = EventFields.key(of: line) { arrivals.withLockedValue { $0[key] = arrived } }
        }
        Thread.sleep(forTimeInterval: 0.3)
        defer { withExtendedLifetime(stream) {} }

        let client = try LoopbackSocket(port: writer)
        var total: [Double] = []
        var afterAck: [Double] = []
        for index in 0..<samples {
            let user = users[index % users.count]
            let body = #"{"status":"online","message":"sample \#(index)"}"#
            let started = monotonicMicros()
            try client.send(
                "PUT /api/v2/presence/\(user)\(session.map { "/sessions/\($0)" } ?? "") HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let (status, response) = try client.readResponse()
            let acknowledged = monotonicMicros()
            guard status == 200, let revision = EventFields.revision(in: String(decoding: response, as: UTF8.self)) else {
                throw BenchError("PUT failed with \(status)")
            }
            let key = "\(user)#\(revision)"
            let deadline = acknowledged + 5e6
            var arrived: Double?
            while arrived == nil && monotonicMicros() < deadline {
                arrived = arrivals.withLockedValue { $0[key] }
                if arrived == nil { usleep(20) }
            }
            guard let arrived else { throw BenchError("\(key) never arrived on the reader") }
            total.append(arrived - started)
            afterAck.append(max(0, arrived - acknowledged))
        }
        let all = Percentiles(total)
        let ack = Percentiles(afterAck)
        print(
            #"{"samples":\#(samples),"p50_us":\#(Int(all.at(0.5))),"p99_us":\#(Int(all.at(0.99))),"max_us":\#(Int(all.at(1))),"after_ack_p50_us":\#(Int(ack.at(0.5))),"after_ack_p99_us":\#(Int(ack.at(0.99)))}"#
        )
    }
}

/// Fields picked out of a record's JSON without a full parse (hot loop of the readers).
enum EventFields {
    static func revision(in json: some StringProtocol) -> Int? {
        guard let range = json.range(of: #""revision":"#) else { return nil }
        return Int(json[range.upperBound...].prefix { $0.isNumber })
    }

    static func userID(in json: some StringProtocol) -> String? {
        guard let range = json.range(of: #""user_id":""#) else { return nil }
        return String(json[range.upperBound...].prefix { $0 != "\"" })
    }

    static func updatedAt(in json: some StringProtocol) -> String? {
        guard let range = json.range(of: #""updated_at":""#) else { return nil }
        return String(json[range.upperBound...].prefix { $0 != "\"" })
    }

    /// `user#revision` of an SSE data line.
    static func key(of line: some StringProtocol) -> String? {
        guard let user = userID(in: line), let revision = revision(in: line) else { return nil }
        return "\(user)#\(revision)"
    }
}
