import ArgumentParser
import Foundation
import NATSClient
import PresenceCore

/// `presence-bench publish`: the raw JetStream async-publish rate into the bucket (the
/// write ceiling the service's PUT is compared with).
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Measure acknowledged async KV puts per second.")

    @Option(help: "NATS URL (a leaf's nats-server to measure through the leaf).") var nats: String
    @Option(help: "JetStream domain (hub through a leaf).") var domain: String?
    @Option(help: "How many puts.") var count: Int = 200_000
    @Option(help: "Distinct keys written.") var keys: Int = 10_000

    func run() async throws {
        let connection = try await NATSConnection.connect(options: .init(urls: [nats], name: "presence-bench-publish"))
        let js = try connection.jetStream(domain: domain, timeout: .seconds(10), publishing: .bulk)
        let bucket = try await js.keyValue(.init(bucket: "presence"))
        // Valid records (of users ceiling-N), so the nodes watching the bucket take them as such.
        let now = Timestamp.now()
        let values = try (0..<keys).map { index in
            let user = try UserID(validating: "ceiling-\(index)")
            let record = PresenceRecord(
                userID: user, status: .online, message: "", lastSeen: now, updatedAt: now, nodeID: "bench", ttl: 300,
                revision: 0)
            return (UserKeyCodec.key(for: user), PresenceJSON.encodeValue(record))
        }
        let count = self.count
        let started = monotonicMicros()
        try await bucket.putWithoutWaiting { put in
            for index in 0..<count {
                let (key, value) = values[index % values.count]
                try put(key, value)
            }
        }
        try await js.waitForAsyncPublishes(timeout: .seconds(120))
        let seconds = (monotonicMicros() - started) / 1e6
        print(#"{"count":\#(count),"seconds":\#(String(format: "%.3f", seconds)),"per_second":\#(Int(Double(count) / seconds))}"#)
    }
}
