import ArgumentParser
import Foundation
import NATSClient
import PresenceCore

/// `presence-bench seed`: writes N presence records straight into the bucket (acknowledged
/// async puts), as fast as JetStream takes them.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed", abstract: "Seed N users into the presence bucket.")

    @Option(help: "NATS URL of the center's (or a leaf's) nats-server.") var nats: String
    @Option(help: "JetStream domain (hub when going through a leaf).") var domain: String?
    @Option(help: "How many users.") var users: Int = 100_000
    @Option(help: "User id prefix.") var prefix: String = "user"
    @Option(help: "TTL of the seeded records (seconds).") var ttl: Int = 86_400
    @Option(help: "Sessions per user (1: the single-record form; more: named sessions).") var sessions: Int = 1
    @Option(help: "Status of every seeded session (online, away, busy, offline), or 'mixed': the four in turn.")
    var status: String = "mixed"

    func validate() throws {
        guard status == "mixed" || PresenceStatus(rawValue: status) != nil else {
            throw ValidationError("--status takes online, away, busy, offline or mixed")
        }
    }

    func run() async throws {
        let connection = try await NATSConnection.connect(options: .init(urls: [nats], name: "presence-bench-seed"))
        let js = try connection.jetStream(domain: domain, timeout: .seconds(10), publishing: .bulk)
        let bucket = try await js.keyValue(.init(bucket: "presence"))
        let (users, prefix, ttl, sessions) = (self.users, self.prefix, self.ttl, max(1, self.sessions))
        let started = monotonicMicros()
        let now = Timestamp.now()
        let statuses: [PresenceStatus] = PresenceStatus(rawValue: status).map { [$0] } ?? [.online, .away, .busy, .offline]
        try await bucket.putWithoutWaiting { put in
            for index in 0..<users {
                let user = try UserID(validating: "\(prefix)\(index)")
                let record = PresenceRecord(
                    userID: user, status: statuses[index % statuses.count], message: index % 3 == 0 ? "In a meeting until 15:00" : "",
                    lastSeen: now, updatedAt: now, nodeID: "bench-seed", ttl: ttl, revision: 0)
                guard sessions > 1 else {
                    try put(UserKeyCodec.key(for: user), PresenceJSON.encodeValue(record))
                    continue
                }
                var presence = UserPresence(single: record)
                presence.sessions = try (0..<sessions).map { number in
                    var session = presence.sessions[0]
                    session.id = try SessionID(validating: "device\(number)")
                    session.status = statuses[(index + number) % statuses.count]
                    return session
                }
                try put(UserKeyCodec.key(for: user), UserPresenceJSON.encodeValue(presence))
            }
        }
        try await js.waitForAsyncPublishes(timeout: .seconds(120))
        let seconds = (monotonicMicros() - started) / 1e6
        print(#"{"users":\#(users),"seconds":\#(String(format: "%.3f", seconds)),"per_second":\#(Int(Double(users) / seconds))}"#)
    }
}
