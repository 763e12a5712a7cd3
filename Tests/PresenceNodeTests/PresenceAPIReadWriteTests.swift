import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceCore
import PresenceNode
import Testing

/// The REST API of SPEC §3 against a real node on a real nats-server.
@Suite("REST API: reads and writes", .serialized, .temporaryFiles, .timeLimit(.minutes(3)))
struct PresenceAPIReadWriteTests {
    @Test func putThenGetReturnsTheStoredRecordWithETag() async throws {
        try await TestNode.withNode { _, client in
            let headers = try await TestNode.headers(for: "alice")
            let put = try await client.execute(
                uri: "/api/v2/presence/alice", method: .put, headers: headers,
                body: ByteBuffer(json: #"{"status":"busy","message":"In a meeting","ttl":120}"#))
            #expect(put.status == .ok)
            let stored = put.json
            #expect(stored["user_id"] as? String == "alice")
            #expect(stored["status"] as? String == "busy")
            #expect(stored["message"] as? String == "In a meeting")
            #expect(stored["ttl"] as? Int == 120)
            #expect(stored["node_id"] as? String == "test-node")
            let revision = try #require(stored["revision"] as? Int)
            #expect(put.headers[.eTag] == "\"\(revision)\"")
            #expect(put.headers[.contentType] == "application/json; charset=utf-8")

            let get = try await client.execute(uri: "/api/v2/presence/alice", method: .get)
            #expect(get.status == .ok)
            #expect(get.headers[.eTag] == "\"\(revision)\"")
            #expect(get.json["status"] as? String == "busy")
            #expect(get.json["last_seen"] as? String == stored["last_seen"] as? String)
            #expect(Set(get.json.keys) == ["user_id", "status", "message", "last_seen", "updated_at", "node_id", "ttl", "revision", "sessions"])
        }
    }

    @Test func idsWithAtAndColonRoundTripThroughTheStore() async throws {
        try await TestNode.withNode { _, client in
            for id in ["alice@example.com", "team:ops=1", "a.b+c", "josé", "x..y"] {
                let admin = try await TestNode.headers(for: "root", scopes: ["presence:admin"])
                let path = "/api/v2/presence/" + id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let put = try await client.execute(
                    uri: path, method: .put, headers: admin, body: ByteBuffer(json: #"{"status":"away"}"#))
                #expect(put.status == .ok, "PUT \(id)")
                let get = try await client.execute(uri: path, method: .get)
                #expect(get.json["user_id"] as? String == id)
            }
        }
    }

    @Test func ifMatchMakesWritesConditional() async throws {
        try await TestNode.withNode { _, client in
            var headers = try await TestNode.headers(for: "dave")
            var conditional = headers
            conditional[.ifMatch] = "\"5\""
            let absent = try await client.execute(
                uri: "/api/v2/presence/dave", method: .put, headers: conditional, body: ByteBuffer(json: #"{"status":"online"}"#))
            #expect(absent.status == .preconditionFailed)
            #expect(absent.errorCode == "precondition_failed")

            let first = try await client.execute(
                uri: "/api/v2/presence/dave", method: .put, headers: headers, body: ByteBuffer(json: #"{"status":"online"}"#))
            let etag = try #require(first.headers[.eTag])
            headers[.ifMatch] = etag
            let second = try await client.execute(
                uri: "/api/v2/presence/dave", method: .put, headers: headers, body: ByteBuffer(json: #"{"status":"away"}"#))
            #expect(second.status == .ok)
            // The first ETag is stale now.
            let third = try await client.execute(
                uri: "/api/v2/presence/dave", method: .put, headers: headers, body: ByteBuffer(json: #"{"status":"busy"}"#))
            #expect(third.status == .preconditionFailed)
            let now = try await client.execute(uri: "/api/v2/presence/dave", method: .get)
            #expect(now.json["status"] as? String == "away")
        }
    }

    @Test func concurrentWritesWithoutIfMatchAllSucceed() async throws {
        try await TestNode.withNode({ $0.writeBurst = 100; $0.writesPerSecond = 100 }) { node, client in
            let headers = try await TestNode.headers(for: "erin")
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Int).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let response = try await client.execute(
                            uri: "/api/v2/presence/erin", method: .put, headers: headers,
                            body: ByteBuffer(json: #"{"status":"online","message":"m\#(index)"}"#))
                        return (response.status, response.json["revision"] as? Int ?? -1)
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, Int)]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0.0 == .ok })
            // Every acknowledged write got its own revision: none overwrote another blindly.
            #expect(Set(statuses.map(\.1)).count == 20)
        }
    }

    @Test func manyWritesInFlightEachGetTheirOwnAcknowledgement() async throws {
        // Writes are published asynchronously and resumed by the acknowledgement handler:
        // every answer must carry the revision JetStream gave that very write.
        try await TestNode.withNode({ $0.writeBurst = 1000; $0.writesPerSecond = 1000 }) { node, client in
            let admin = try await TestNode.headers(for: "root", scopes: ["presence:admin"])
            let written = try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status, Int).self) { group in
                for index in 0..<400 {
                    group.addTask {
                        let response = try await client.execute(
                            uri: "/api/v2/presence/inflight\(index)", method: .put, headers: admin,
                            body: ByteBuffer(json: #"{"status":"online","message":"w\#(index)"}"#))
                        return (index, response.status, response.json["revision"] as? Int ?? -1)
                    }
                }
                return try await group.reduce(into: [(Int, HTTPResponse.Status, Int)]()) { $0.append($1) }
            }
            #expect(written.allSatisfy { $0.1 == .ok })
            #expect(Set(written.map(\.2)).count == 400)
            for (index, _, revision) in written {
                let record = try await client.execute(uri: "/api/v2/presence/inflight\(index)", method: .get).json
                #expect(record["revision"] as? Int == revision)
                #expect(record["message"] as? String == "w\(index)")
            }
        }
    }

    @Test func heartbeatRefreshesLiveRecordsOnly() async throws {
        let clock = TestClock()
        try await TestNode.withNode(clock: clock) { _, client in
            let headers = try await TestNode.headers(for: "fay")
            let none = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(none.status == .notFound)

            let put = try await client.execute(
                uri: "/api/v2/presence/fay", method: .put, headers: headers,
                body: ByteBuffer(json: #"{"status":"busy","message":"deep work","ttl":10}"#))
            clock.advance(seconds: 5)
            let beat = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(beat.status == .ok)
            #expect(beat.json["status"] as? String == "busy")
            #expect(beat.json["message"] as? String == "deep work")
            #expect(beat.json["updated_at"] as? String != put.json["updated_at"] as? String)
            // Not a durable write (SPEC §3a): the revision stays, the ETag says the body moved.
            let revision = try #require(put.json["revision"] as? Int)
            #expect(beat.json["revision"] as? Int == revision)
            #expect(put.headers[.eTag] == "\"\(revision)\"")
            #expect(beat.headers[.eTag]?.hasPrefix("\"\(revision).") == true, "\(beat.headers[.eTag] ?? "no ETag")")

            // Past the TTL the record reads offline, and a heartbeat does not bring it back.
            clock.advance(seconds: 11)
            let expired = try await client.execute(uri: "/api/v2/presence/fay", method: .get)
            #expect(expired.json["status"] as? String == "offline")
            #expect(expired.json["message"] as? String == "")
            #expect(expired.json["last_seen"] as? String == beat.json["last_seen"] as? String)
            let late = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(late.status == .ok)
            #expect(late.json["status"] as? String == "offline")
            #expect(late.json["revision"] as? Int == beat.json["revision"] as? Int)
        }
    }

    @Test func deleteSetsOfflineAndKeepsLastSeen() async throws {
        let clock = TestClock()
        try await TestNode.withNode(clock: clock) { _, client in
            let headers = try await TestNode.headers(for: "gus")
            let none = try await client.execute(uri: "/api/v2/presence/gus", method: .delete, headers: headers)
            #expect(none.status == .notFound)
            let put = try await client.execute(
                uri: "/api/v2/presence/gus", method: .put, headers: headers,
                body: ByteBuffer(json: #"{"status":"online","message":"hi"}"#))
            clock.advance(seconds: 3)
            let deleted = try await client.execute(uri: "/api/v2/presence/gus", method: .delete, headers: headers)
            #expect(deleted.status == .ok)
            #expect(deleted.json["status"] as? String == "offline")
            #expect(deleted.json["message"] as? String == "")
            #expect(deleted.json["last_seen"] as? String == put.json["last_seen"] as? String)
            let get = try await client.execute(uri: "/api/v2/presence/gus", method: .get)
            #expect(get.status == .ok)
            #expect(get.json["status"] as? String == "offline")
        }
    }

    @Test func expiryAppliesOnEveryReadAtOnce() async throws {
        let clock = TestClock()
        try await TestNode.withNode(clock: clock) { _, client in
            let put = try await client.execute(
                uri: "/api/v2/presence/hal", method: .put, headers: try await TestNode.headers(for: "hal"),
                body: ByteBuffer(json: #"{"status":"online","message":"here","ttl":10}"#))
            clock.advance(seconds: 10)
            let justInTime = try await client.execute(uri: "/api/v2/presence/hal", method: .get)
            #expect(justInTime.json["status"] as? String == "online")
            clock.advance(seconds: 0.5)
            let single = try await client.execute(uri: "/api/v2/presence/hal", method: .get)
            #expect(single.json["status"] as? String == "offline")
            #expect(single.json["last_seen"] as? String == put.json["last_seen"] as? String)
            let batch = try await client.execute(uri: "/api/v2/presence?users=hal", method: .get)
            let first = try #require((batch.json["presences"] as? [[String: Any]])?.first)
            #expect(first["status"] as? String == "offline")
        }
    }
}
