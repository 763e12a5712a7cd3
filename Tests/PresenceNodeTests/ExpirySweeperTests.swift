import Foundation
import Hummingbird
import HummingbirdTesting
import NATSClient
import PresenceCore
import PresenceNode
import Testing

@testable import PresenceStore

/// The center's sweeper persists expiry in the bucket; a write racing it always wins.
@Suite("Expiry sweeper", .serialized, .temporaryFiles, .timeLimit(.minutes(2)))
struct ExpirySweeperTests {
    private func put(_ client: any TestClientProtocol, _ user: String, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v2/presence/\(user)", method: .put, headers: try await TestNode.headers(for: user),
            body: ByteBuffer(json: body))
    }

    /// Runs `body` with a second node on `center`'s bucket (its own replica, fed by its own
    /// watcher), on the same clock.
    private func withSecondNode(
        of center: PresenceNode, clock: TestClock,
        _ body: @escaping @Sendable (PresenceNode, any TestClientProtocol) async throws -> Void
    ) async throws {
        let centerURL = try #require(center.supervisor?.authenticatedClientURL)
        try await TestNode.withNode({
            $0.role = .leaf
            $0.natsEmbedded = false
            $0.natsURL = centerURL
            $0.nodeID = "second"
        }, clock: clock, body)
    }

    @Test func anExpiredUserTurnsOfflineInTheBucketAndOnAnotherNode() async throws {
        let clock = TestClock()
        try await TestNode.withNode({ $0.sweepInterval = 0.05 }, clock: clock) { center, client in
            let put = try await put(client, "tess", #"{"status":"online","message":"hi","ttl":10}"#)
            let revision = try #require(put.json["revision"] as? Int)
            try await withSecondNode(of: center, clock: clock) { second, _ in
                clock.advance(seconds: 10.5)
                let deadline = ContinuousClock.now + .seconds(10)
                var seen: PresenceRecord?
                while ContinuousClock.now < deadline {
                    if case .found(let stored) = second.store.replica.lookup(try UserID(validating: "tess"), now: clock.now),
                        stored.revision > UInt64(revision)
                    {
                        seen = stored.publicView(at: clock.now)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let record = try #require(seen, "the second node's replica never saw the transition")
                #expect(record.status == .offline)
                #expect(record.message == "")
                #expect(record.lastSeen.rfc3339 == put.json["last_seen"] as? String)
                #expect(record.nodeID == "test-node")
            }
            // And in the bucket itself, read with a plain NATS client.
            let centerURL = try #require(center.supervisor?.authenticatedClientURL)
            let connection = try await NATSConnection.connect(options: .init(urls: [centerURL], name: "inspector"))
            let bucket = try await connection.jetStream(domain: nil, timeout: .seconds(2)).keyValue(.init(bucket: "presence"))
            let entry = try #require(try await bucket.get("tess"))
            let stored = try #require(PresenceJSON.decodeValue(entry.value, revision: entry.revision))
            #expect(stored.status == .offline)
        }
    }

    @Test func aWriteRacingTheSweeperWins() async throws {
        let clock = TestClock()
        try await TestNode.withNode({ $0.sweepInterval = 3600 }, clock: clock) { node, client in
            let first = try await put(client, "rita", #"{"status":"busy","ttl":10}"#)
            let seenRevision = UInt64(try #require(first.json["revision"] as? Int))
            clock.advance(seconds: 11)
            // The sweeper has taken rita as due at the revision it saw...
            let due = try #require(node.sweeper).schedule.due(now: clock.now, limit: 10)
            #expect(due.map(\.revision) == [seenRevision])
            // ...then the user comes back before its write lands.
            let back = try await put(client, "rita", #"{"status":"online","message":"back"}"#)
            #expect(back.status == .ok)
            let lost = await #expect(throws: PresenceError.self) {
                _ = try await node.store.apply(.expire, to: try UserID(validating: "rita"), ifMatch: .revision(seenRevision))
            }
            #expect(lost?.code == .preconditionFailed, "the sweeper's write lost the compare-and-set: \(String(describing: lost))")
            let now = try await client.execute(uri: "/api/v2/presence/rita", method: .get)
            #expect(now.json["status"] as? String == "online")
            #expect(now.json["message"] as? String == "back")
            #expect(now.json["revision"] as? Int == back.json["revision"] as? Int, "nothing was written over the comeback")
            // A sweep now finds nothing to do for rita's old revision...
            #expect(await node.sweeper?.sweep().written == 0)
            // ...and persists the new one once it expires in turn.
            clock.advance(seconds: 301)
            #expect(await node.sweeper?.sweep().written == 1)
            let expired = try await client.execute(uri: "/api/v2/presence/rita", method: .get)
            #expect(expired.json["status"] as? String == "offline")
            #expect((expired.json["revision"] as? Int ?? 0) > (back.json["revision"] as? Int ?? Int.max))
        }
    }

    @Test func aRecordUntouchedForTheRetentionPeriodIsDroppedAndReads404Everywhere() async throws {
        let clock = TestClock()
        try await TestNode.withNode({
            $0.sweepInterval = 0.05
            $0.retention = 3600
        }, clock: clock) { center, client in
            _ = try await put(client, "old", #"{"status":"online","ttl":10}"#)
            _ = try await put(client, "kept", #"{"status":"online","ttl":10}"#)
            try await withSecondNode(of: center, clock: clock) { _, secondClient in
                clock.advance(seconds: 1800)
                _ = try await put(client, "kept", #"{"status":"online","ttl":10}"#)
                clock.advance(seconds: 1820)  // past 3600 s after old's last write (its expiry, at 10 s)
                let deadline = ContinuousClock.now + .seconds(10)
                var statuses: [HTTPResponse.Status] = []
                while ContinuousClock.now < deadline {
                    statuses = [
                        try await client.execute(uri: "/api/v2/presence/old", method: .get).status,
                        try await secondClient.execute(uri: "/api/v2/presence/old", method: .get).status,
                    ]
                    if statuses == [.notFound, .notFound] { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(statuses == [.notFound, .notFound], "the dropped user reads 404 on both nodes")
                #expect(try await client.execute(uri: "/api/v2/presence/kept", method: .get).status == .ok)
                #expect(center.sweeper?.statistics.dropped == 1)
                // The user comes back: a first write on the delete marker.
                let back = try await put(client, "old", #"{"status":"busy"}"#)
                #expect(back.status == .ok)
                #expect(back.json["status"] as? String == "busy")
            }
        }
    }

    /// The sweeper wakes when the next expiry falls due, not only every `sweep_interval`: with
    /// a 3 s interval, three users whose deadlines are 0.6 s apart each turn offline in the
    /// bucket well within 0.5 s of their deadline (a sweep every 3 s alone would make each
    /// late by up to 3 s: all three on time by chance is about 0.3 %).
    @Test func anExpiryIsPersistedAtItsDeadlineNotAtTheNextInterval() async throws {
        try await TestNode.withNode({ $0.sweepInterval = 3 * TestTime.scale }) { center, client in
            var deadlines: [(user: UserID, revision: UInt64, millis: Int64)] = []
            for name in ["early", "middle", "late"] {
                let answer = try await put(client, name, #"{"status":"online","ttl":10}"#)
                let stamp = try #require(answer.json["updated_at"] as? String)
                let updated = try #require(Timestamp(rfc3339: stamp))
                let revision = try #require(answer.json["revision"] as? Int)
                deadlines.append((try UserID(validating: name), UInt64(revision), updated.millisecondsSinceEpoch + 10_000))
                try await Task.sleep(for: .milliseconds(600))
            }
            let giveUp = ContinuousClock.now + .seconds(20).scaled
            var lateness: [String: Int64] = [:]
            while lateness.count < deadlines.count, ContinuousClock.now < giveUp {
                for (user, revision, millis) in deadlines where lateness["\(user)"] == nil {
                    if case .found(let stored) = center.store.replica.lookup(user, now: .now()), stored.revision > revision {
                        lateness["\(user)"] = Timestamp.now().millisecondsSinceEpoch - millis
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(lateness.count == 3, "transitions seen: \(lateness)")
            for (user, late) in lateness {
                #expect(late >= 0 && late < Int64(500 * TestTime.scale), "\(user) turned offline \(late) ms after its deadline")
            }
        }
    }
}
