import ArgumentParser
import Foundation
import NATSClient

/// `presence-bench publish`: the raw JetStream async-publish rate into the bucket (the
/// write ceiling the service's PUT is compared with).
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Measure acknowledged async KV puts per second.")

    @Option(help: "NATS URL (a leaf's nats-server to measure through the leaf).") var nats: String
    @Option(help: "JetStream domain (hub through a leaf).") var domain: String?
    @Option(help: "How many puts.") var count: Int = 200_000
    @Option(help: "Distinct keys written.") var keys: Int = 10_000

    func run() throws {
        let connection = try NATSConnection(options: .init(urls: [nats], name: "presence-bench-publish"))
        let js = try connection.jetStream(domain: domain, timeout: .seconds(10), publishing: .bulk)
        let bucket = try js.keyValue(.init(bucket: "presence"))
        let value = Array(
            #"{"user_id":"ceiling","status":"online","message":"","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","node_id":"bench","ttl":300}"#
                .utf8)
        let names = (0..<keys).map { "ceiling-\($0)" }
        let started = monotonicMicros()
        for index in 0..<count { try bucket.putAsync(names[index % keys], value: value) }
        try js.waitForAsyncPublishes(timeout: .seconds(120))
        let seconds = (monotonicMicros() - started) / 1e6
        print(#"{"count":\#(count),"seconds":\#(String(format: "%.3f", seconds)),"per_second":\#(Int(Double(count) / seconds))}"#)
    }
}
