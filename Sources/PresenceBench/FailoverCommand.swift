import ArgumentParser
import Foundation

/// `presence-bench failover`: writes one after another through one node for `seconds` while
/// the caller kills the bucket's leader; reports the longest time between two acknowledged
/// writes (the failover as a client sees it) and what the writes answered meanwhile. A write
/// that gets no answer within `timeout` seconds counts as failed and the connection is opened
/// again.
struct FailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover", abstract: "Measure the longest write outage while a center is killed.")

    @Option(help: "HTTP port of the node written to.") var port: Int
    @Option(help: "An admin token.") var token: String
    @Option(help: "Seconds of writing.") var seconds: Double = 20
    @Option(help: "Seconds a write may take before it counts as failed.") var timeout: Int = 10

    func run() throws {
        var client: LoopbackSocket?
        var lastSuccess = monotonicMicros()
        var longestGap = 0.0
        var gapEndedAt = 0.0
        var acknowledged = 0
        var answers: [Int: Int] = [:]
        var noAnswer = 0
        let began = monotonicMicros()
        var index = 0
        while monotonicMicros() - began < seconds * 1e6 {
            index += 1
            do {
                let socket = try client ?? LoopbackSocket(port: port, receiveTimeout: timeout)
                client = socket
                let body = #"{"status":"online","message":"write \#(index)"}"#
                try socket.send(
                    "PUT /api/v2/presence/failover\(index % 100) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                )
                let (status, _) = try socket.readResponse()
                answers[status, default: 0] += 1
                guard status == 200 else {
                    usleep(10_000)
                    continue
                }
                let now = monotonicMicros()
                if now - lastSuccess > longestGap {
                    longestGap = now - lastSuccess
                    gapEndedAt = now - began
                }
                lastSuccess = now
                acknowledged += 1
            } catch {
                noAnswer += 1
                client = nil
                usleep(10_000)
            }
        }
        let statuses = answers.sorted { $0.key < $1.key }.map { #""\#($0.key)":\#($0.value)"# }.joined(separator: ",")
        print(
            #"{"seconds":\#(seconds),"acknowledged":\#(acknowledged),"longest_gap_ms":\#(Int(longestGap / 1000)),"gap_ended_at_s":\#(String(format: "%.2f", gapEndedAt / 1e6)),"answers":{\#(statuses)},"no_answer":\#(noAnswer)}"#
        )
    }
}
