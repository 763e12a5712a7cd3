import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// `If-None-Match` on reads (304) and `If-Match` on writes (412), in every form a client sends.
@Suite("Router: ETags and conditional requests")
struct RouterConditionalTests {
    @Test("If-None-Match forms that match the current ETag give 304", arguments: [
        #""1""#, #"W/"1""#, "*", #""7", "1""#, " \"1\" ", "\"7\",\tW/\"1\"",
    ])
    func ifNoneMatchGives304(header: String) async throws {
        try await RouterFixture().test { client in
            _ = try await client.put("carol", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "carol"))
            let cached = try await client.get("/api/v2/presence/carol", headers: [.ifNoneMatch: header])
            #expect(cached.status == .notModified)
            #expect(cached.body.readableBytes == 0)
            #expect(cached.headers[.eTag] == #""1""#)
        }
    }

    @Test("If-None-Match forms that do not match give 200", arguments: [
        #""2""#, #""01""#, "1", #"W/"2""#, "", #""10", "11""#,
    ])
    func ifNoneMatchMismatchGives200(header: String) async throws {
        try await RouterFixture().test { client in
            _ = try await client.put("carol", #"{"status":"online"}"#, headers: try await RouterFixture.headers(for: "carol"))
            let fresh = try await client.get("/api/v2/presence/carol", headers: [.ifNoneMatch: header])
            #expect(fresh.status == .ok)
            #expect(fresh.json()["user_id"] as? String == "carol")
        }
    }

    @Test func anExpiredRecordIsNeverNotModified() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let put = try await client.put(
                "dan", #"{"status":"online","ttl":10}"#, headers: try await RouterFixture.headers(for: "dan"))
            let etag = try #require(put.headers[.eTag])
            fixture.clock.advance(seconds: 11)
            let read = try await client.get("/api/v2/presence/dan", headers: [.ifNoneMatch: etag])
            #expect(read.status == .ok)
            #expect(read.json()["status"] as? String == "offline")
        }
    }

    @Test func ifMatchMakesWritesConditional() async throws {
        try await RouterFixture().test { client in
            var headers = try await RouterFixture.headers(for: "dave")
            var conditional = headers
            conditional[.ifMatch] = #""5""#
            let absent = try await client.put("dave", #"{"status":"online"}"#, headers: conditional)
            #expect(absent.status == .preconditionFailed)
            #expect(absent.errorCode() == "precondition_failed")

            let first = try await client.put("dave", #"{"status":"online"}"#, headers: headers)
            let etag = try #require(first.headers[.eTag])
            headers[.ifMatch] = etag
            let second = try await client.put("dave", #"{"status":"away"}"#, headers: headers)
            #expect(second.status == .ok)
            let stale = try await client.put("dave", #"{"status":"busy"}"#, headers: headers)
            #expect(stale.status == .preconditionFailed)
            #expect(try await client.get("/api/v2/presence/dave").json()["status"] as? String == "away")
        }
    }

    @Test("If-Match forms over a record at revision 1", arguments: [
        (#""1""#, true), ("*", true), (#""9", "1""#, true), (" \"1\" ", true), (#"W/"1", "1""#, true),
        (#""2""#, false), (#"W/"1""#, false), ("1", false), (#""01""#, false), (#""9", "8""#, false), ("", false),
    ])
    func ifMatchForms(header: String, applies: Bool) async throws {
        try await RouterFixture().test { client in
            var headers = try await RouterFixture.headers(for: "eve")
            _ = try await client.put("eve", #"{"status":"online"}"#, headers: headers)
            headers[.ifMatch] = header
            let write = try await client.put("eve", #"{"status":"busy"}"#, headers: headers)
            #expect(write.status == (applies ? .ok : .preconditionFailed), "If-Match: \(header)")
            let now = try await client.get("/api/v2/presence/eve").json()
            #expect(now["status"] as? String == (applies ? "busy" : "online"))
        }
    }

    @Test func ifMatchStarOnAMissingRecordIs412AndDeleteHonoursIfMatch() async throws {
        try await RouterFixture().test { client in
            var headers = try await RouterFixture.headers(for: "flo")
            headers[.ifMatch] = "*"
            let star = try await client.put("flo", #"{"status":"online"}"#, headers: headers)
            #expect(star.status == .preconditionFailed)
            headers[.ifMatch] = nil
            let put = try await client.put("flo", #"{"status":"online"}"#, headers: headers)
            headers[.ifMatch] = #""99""#
            let refused = try await client.execute(uri: "/api/v2/presence/flo", method: .delete, headers: headers)
            #expect(refused.status == .preconditionFailed)
            headers[.ifMatch] = put.headers[.eTag]
            let deleted = try await client.execute(uri: "/api/v2/presence/flo", method: .delete, headers: headers)
            #expect(deleted.status == .ok)
            #expect(deleted.headers[.eTag] == #""2""#)
        }
    }
}
