import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceCore
import PresenceNode
import Testing

/// `GET /api/v2/presence/stream` (SPEC §3) on a live node: snapshot, live changes, expiry
/// events from the sweeper, keepalives, limits, and clean-up when the client goes away.
@Suite("Presence stream", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct PresenceStreamTests {
    private func put(_ client: any TestClientProtocol, _ user: String, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v2/presence/\(user)", method: .put,
            headers: try await TestNode.headers(for: "root", scopes: ["presence:admin"]), body: ByteBuffer(json: body))
    }

    @Test func snapshotThenLiveChangesThenExpiry() async throws {
        let clock = TestClock()
        try await TestNode.withNode({ $0.sweepInterval = 0.05 }, clock: clock, live: true) { node, client in
            let port = try #require(client.port)
            _ = try await put(client, "s-a", #"{"status":"online","message":"first"}"#)
            _ = try await put(client, "s-b", #"{"status":"busy","ttl":10}"#)
            let stream = try SSEClient(port: port, path: "/api/v2/presence/stream?users=s-a,s-b,s-c")
            #expect(await stream.wait { $0.presences.count == 2 })
            #expect(stream.statusLine == "HTTP/1.1 200 OK")
            #expect(stream.received.lowercased().contains("content-type: text/event-stream"))
            #expect(stream.presences.compactMap { $0["user_id"] as? String } == ["s-a", "s-b"])
            let first = try #require(stream.events.first)
            #expect(first.event == "presence")
            #expect(first.id == String(stream.presences[0]["revision"] as? Int ?? -1), "\(stream.received)")

            // A change of a listed user arrives; one of an unlisted user does not.
            _ = try await put(client, "s-x", #"{"status":"online"}"#)
            _ = try await put(client, "s-a", #"{"status":"away","message":"second"}"#)
            #expect(await stream.wait { $0.presences.count == 3 })
            #expect(stream.presences.last?["message"] as? String == "second")
            _ = try await put(client, "s-c", #"{"status":"online"}"#)
            #expect(await stream.wait { $0.presences.count == 4 })
            #expect(stream.presences.last?["user_id"] as? String == "s-c")

            // s-b expires: the sweeper persists offline and the stream sees it.
            clock.advance(seconds: 11)
            #expect(await stream.wait { $0.presences.contains { $0["user_id"] as? String == "s-b" && $0["status"] as? String == "offline" } })
            #expect(!stream.presences.contains { $0["user_id"] as? String == "s-x" })
            // The sweeper counts its transition when its write returns, which may come after
            // the stream has already sent the stored change.
            let deadline = ContinuousClock.now + .seconds(5)
            while node.sweeper?.statistics.transitions ?? 0 < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(node.sweeper?.statistics.transitions ?? 0 >= 1)
        }
    }

    @Test func anExpiredMessageIsPersistedAndStreamed() async throws {
        let clock = TestClock()
        try await TestNode.withNode({ $0.sweepInterval = 0.05 }, clock: clock, live: true) { node, client in
            let port = try #require(client.port)
            let expiry = clock.now.adding(seconds: 60).rfc3339
            _ = try await put(client, "m-a", #"{"status":"busy","message":"lunch","ttl":600,"message_expires_at":"\#(expiry)"}"#)
            let stream = try SSEClient(port: port, path: "/api/v2/presence/stream?users=m-a")
            #expect(await stream.wait { $0.presences.count == 1 })
            #expect(stream.presences.first?["message"] as? String == "lunch")
            clock.advance(seconds: 61)
            #expect(await stream.wait { $0.presences.count == 2 })
            #expect(stream.presences.last?["message"] as? String == "")
            #expect(stream.presences.last?["status"] as? String == "busy")
            #expect(node.sweeper?.statistics.transitions ?? 0 >= 1, "the center persisted it")
        }
    }

    @Test func keepalivesAreSent() async throws {
        try await TestNode.withNode({ $0.streamKeepalive = 0.05 }, live: true) { _, client in
            let stream = try SSEClient(port: try #require(client.port), path: "/api/v2/presence/stream?users=k1")
            #expect(await stream.wait { $0.received.components(separatedBy: ": keepalive").count > 2 })
        }
    }

    @Test func aClientThatGoesAwayIsCleanedUp() async throws {
        try await TestNode.withNode({ $0.streamKeepalive = 0.05 }, live: true) { node, client in
            let stream = try SSEClient(port: try #require(client.port), path: "/api/v2/presence/stream?users=gone")
            #expect(await stream.wait { _ in node.changes.subscriberCount == 1 })
            stream.disconnect()
            #expect(await stream.wait { _ in node.changes.subscriberCount == 0 })
        }
    }

    @Test func limitsAndValidation() async throws {
        try await TestNode.withNode({ $0.maxStreams = 1 }, live: true) { node, client in
            let port = try #require(client.port)
            let thousand = (0..<1000).map { "u\($0)" }.joined(separator: ",")
            let tooMany = try await client.execute(uri: "/api/v2/presence/stream?users=\(thousand),u1000", method: .get)
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.errorCode == "too_many_users")
            let invalid = try await client.execute(uri: "/api/v2/presence/stream?users=a,b%20c", method: .get)
            #expect(invalid.errorCode == "invalid_user_id")
            let missing = try await client.execute(uri: "/api/v2/presence/stream", method: .get)
            #expect(missing.errorCode == "bad_request")

            let open = try SSEClient(port: port, path: "/api/v2/presence/stream?users=\(thousand)")
            #expect(await open.wait { _ in node.changes.subscriberCount == 1 })
            let refused = try SSEClient(port: port, path: "/api/v2/presence/stream?users=x")
            #expect(await refused.wait { $0.received.contains("\r\n\r\n") })
            #expect(refused.statusLine.hasPrefix("HTTP/1.1 503"))
            #expect(refused.received.contains("\"unavailable\""))
            #expect(refused.received.lowercased().contains("retry-after:"))
        }
    }
}
