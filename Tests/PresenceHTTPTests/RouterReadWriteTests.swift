import Foundation
import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// Reads and writes of SPEC §3 through the router, over the in-memory repository.
@Suite("Router: reads and writes")
struct RouterReadWriteTests {
    @Test func putThenGetReturnsTheStoredRecordWithItsETag() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let put = try await client.put(
                "alice", #"{"status":"busy","message":"In a meeting","ttl":120}"#,
                headers: try await RouterFixture.headers(for: "alice"))
            #expect(put.status == .ok)
            let stored = put.json()
            #expect(stored["user_id"] as? String == "alice")
            #expect(stored["status"] as? String == "busy")
            #expect(stored["message"] as? String == "In a meeting")
            #expect(stored["ttl"] as? Int == 120)
            #expect(stored["node_id"] as? String == "router-test")
            #expect(stored["revision"] as? Int == 1)
            #expect(put.headers[.eTag] == #""1""#)
            #expect(put.headers[.contentType] == "application/json; charset=utf-8")
            #expect(put.body.readableBytesView.last == UInt8(ascii: "\n"))

            let get = try await client.get("/api/v2/presence/alice")
            #expect(get.status == .ok)
            #expect(get.headers[.eTag] == #""1""#)
            #expect(get.headers[.cacheControl] == "no-cache")
            #expect(get.json()["last_seen"] as? String == stored["last_seen"] as? String)
            #expect(
                Set(get.json().keys) == ["user_id", "status", "message", "last_seen", "updated_at", "node_id", "ttl", "revision", "sessions"])
        }
    }

    @Test func aPutWithoutMessageOrTTLTakesTheDefaults() async throws {
        let fixture = RouterFixture { $0.defaultTTL = 77 }
        try await fixture.test { client in
            let put = try await client.put("bob", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "bob"))
            #expect(put.status == .ok)
            #expect(put.json()["message"] as? String == "")
            #expect(put.json()["ttl"] as? Int == 77)
        }
    }

    @Test func anUnknownUserIs404AndAnInvalidIdIs400() async throws {
        try await RouterFixture().test { client in
            let missing = try await client.get("/api/v2/presence/nobody")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode() == "not_found")
            for path in ["bad%20id", String(repeating: "a", count: 129), "%EF%BB%BFbob", "a%2Fb", "%zz"] {
                let invalid = try await client.get("/api/v2/presence/\(path)")
                #expect(invalid.status == .badRequest, "\(path)")
                #expect(invalid.errorCode() == "invalid_user_id", "\(path)")
            }
        }
    }

    @Test func idsWithAtColonAndNonASCIILettersRoundTrip() async throws {
        try await RouterFixture().test { client in
            let admin = try await RouterFixture.admin()
            for id in ["alice@example.com", "team:ops=1", "a.b+c", "josé", "x..y"] {
                let path = "/api/v2/presence/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)
                let put = try await client.execute(
                    uri: path, method: .put, headers: admin, body: ByteBuffer(string: #"{"status":"away"}"#))
                #expect(put.status == .ok, "PUT \(id)")
                #expect(try await client.get(path).json()["user_id"] as? String == id)
            }
        }
    }

    @Test func usersNamedBatchAndStreamAreOrdinaryUsers() async throws {
        try await RouterFixture().test { client in
            for user in ["batch", "stream"] {
                let headers = try await RouterFixture.headers(for: user)
                let put = try await client.put(user, #"{"status":"busy"}"#, headers: headers)
                #expect(put.json()["user_id"] as? String == user, "PUT \(user)")
                let beat = try await client.execute(uri: "/api/v2/presence/\(user)/heartbeat", method: .post, headers: headers)
                #expect(beat.status == .ok, "heartbeat \(user)")
                let delete = try await client.execute(uri: "/api/v2/presence/\(user)", method: .delete, headers: headers)
                #expect(delete.json()["status"] as? String == "offline", "DELETE \(user)")
            }
            #expect(try await client.get("/api/v2/presence/batch").json()["user_id"] as? String == "batch")
            let head = try await client.execute(uri: "/api/v2/presence/batch", method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            let both = try await client.get("/api/v2/presence?users=batch,stream")
            #expect((both.json()["presences"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func aHeartbeatRefreshesALiveRecordAndLeavesAnExpiredOneOffline() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let headers = try await RouterFixture.headers(for: "fay")
            let none = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(none.status == .notFound)
            #expect(none.errorCode() == "not_found")

            let put = try await client.put("fay", #"{"status":"busy","message":"deep work","ttl":10}"#, headers: headers)
            fixture.clock.advance(seconds: 5)
            let beat = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(beat.status == .ok)
            #expect(beat.json()["message"] as? String == "deep work")
            #expect(beat.json()["updated_at"] as? String != put.json()["updated_at"] as? String)
            #expect(beat.headers[.eTag] == #""2""#)

            fixture.clock.advance(seconds: 11)
            let expired = try await client.get("/api/v2/presence/fay")
            #expect(expired.json()["status"] as? String == "offline")
            #expect(expired.json()["message"] as? String == "")
            #expect(expired.json()["last_seen"] as? String == beat.json()["last_seen"] as? String)
            let late = try await client.execute(uri: "/api/v2/presence/fay/heartbeat", method: .post, headers: headers)
            #expect(late.status == .ok)
            #expect(late.json()["status"] as? String == "offline")
            #expect(late.json()["revision"] as? Int == 2)
        }
    }

    @Test func deleteSetsOfflineAndKeepsLastSeen() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let headers = try await RouterFixture.headers(for: "gus")
            let none = try await client.execute(uri: "/api/v2/presence/gus", method: .delete, headers: headers)
            #expect(none.status == .notFound)
            let put = try await client.put("gus", #"{"status":"online","message":"hi"}"#, headers: headers)
            fixture.clock.advance(seconds: 3)
            let deleted = try await client.execute(uri: "/api/v2/presence/gus", method: .delete, headers: headers)
            #expect(deleted.status == .ok)
            #expect(deleted.json()["status"] as? String == "offline")
            #expect(deleted.json()["message"] as? String == "")
            #expect(deleted.json()["last_seen"] as? String == put.json()["last_seen"] as? String)
            #expect(try await client.get("/api/v2/presence/gus").json()["status"] as? String == "offline")
        }
    }

    @Test func expiryAppliesToSingleAndBatchReadsAtOnce() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let put = try await client.put(
                "hal", #"{"status":"online","message":"here","ttl":10}"#, headers: try await RouterFixture.headers(for: "hal"))
            fixture.clock.advance(seconds: 10)
            #expect(try await client.get("/api/v2/presence/hal").json()["status"] as? String == "online")
            fixture.clock.advance(seconds: 0.5)
            let single = try await client.get("/api/v2/presence/hal")
            #expect(single.json()["status"] as? String == "offline")
            #expect(single.json()["last_seen"] as? String == put.json()["last_seen"] as? String)
            let batch = try await client.get("/api/v2/presence?users=hal")
            let first = try #require((batch.json()["presences"] as? [[String: Any]])?.first)
            #expect(first["status"] as? String == "offline")
        }
    }

    @Test func batchReadsKeepRequestOrderCollapseDuplicatesAndListTheMissing() async throws {
        try await RouterFixture().test { client in
            let admin = try await RouterFixture.admin()
            for user in ["u1", "u2", "u3"] {
                #expect(try await client.put(user, #"{"status":"away"}"#, headers: admin).status == .ok)
            }
            let get = try await client.get("/api/v2/presence?users=u3,nope,u1,u3")
            #expect(get.status == .ok)
            let ids = (get.json()["presences"] as? [[String: Any]])?.compactMap { $0["user_id"] as? String }
            #expect(ids == ["u3", "u1"])
            #expect(get.json()["not_found"] as? [String] == ["nope"])

            let post = try await client.execute(
                uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"user_ids":["u2","ghost","u1"]}"#))
            #expect(post.status == .ok)
            let postIDs = (post.json()["presences"] as? [[String: Any]])?.compactMap { $0["user_id"] as? String }
            #expect(postIDs == ["u2", "u1"])
            #expect(post.json()["not_found"] as? [String] == ["ghost"])
        }
    }

    @Test func headAnswersLikeGetWithoutABody() async throws {
        try await RouterFixture().test { client in
            _ = try await client.put("ivy", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "ivy"))
            let get = try await client.get("/api/v2/presence/ivy")
            let head = try await client.execute(uri: "/api/v2/presence/ivy", method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.eTag] == get.headers[.eTag])
            #expect(head.headers[.contentLength] == String(get.body.readableBytes))
            let list = try await client.execute(uri: "/api/v2/presence?users=ivy", method: .head)
            #expect(list.status == .ok)
            #expect(list.body.readableBytes == 0)
            let missing = try await client.execute(uri: "/api/v2/presence/nobody", method: .head)
            #expect(missing.status == .notFound)
            #expect(missing.body.readableBytes == 0)
        }
    }
}
