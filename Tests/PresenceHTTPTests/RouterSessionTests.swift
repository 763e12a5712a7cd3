import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// The session routes, invisible as an observer sees it, and `message_expires_at` (SPEC §2, §3).
@Suite("Router: sessions and invisible")
struct RouterSessionTests {
    func session(_ user: String, _ id: String) -> String { "/api/v2/presence/\(user)/sessions/\(id)" }

    @Test func sessionRoutesValidateAndAnswerTheCombinedPresence() async throws {
        try await RouterFixture().test { client in
            let own = try await RouterFixture.headers(for: "sam")
            let phone = try await client.execute(
                uri: session("sam", "phone"), method: .put, headers: own, body: ByteBuffer(string: #"{"status":"away","device":"Pixel"}"#))
            #expect(phone.status == .ok)
            #expect(phone.json()["sessions"] as? Int == 1)
            let desk = try await client.execute(
                uri: session("sam", "desk"), method: .put, headers: own, body: ByteBuffer(string: #"{"status":"busy"}"#))
            #expect(desk.json()["status"] as? String == "busy")
            #expect(desk.json()["sessions"] as? Int == 2)
            for bad in ["a%20b", String(repeating: "x", count: 65), "%C3%A9"] {
                let refused = try await client.execute(
                    uri: session("sam", bad), method: .put, headers: own, body: ByteBuffer(string: #"{"status":"online"}"#))
                #expect(refused.status == .badRequest && refused.errorCode() == "invalid_session_id", "\(bad)")
            }
            let missing = try await client.execute(uri: session("sam", "tablet") + "/heartbeat", method: .post, headers: own)
            #expect(missing.status == .notFound)
            let other = try await client.execute(
                uri: session("sam", "x"), method: .put, headers: try await RouterFixture.headers(for: "eve"),
                body: ByteBuffer(string: #"{"status":"online"}"#))
            #expect(other.status == .forbidden)
            let gone = try await client.execute(uri: session("sam", "desk"), method: .delete, headers: own)
            #expect(gone.json()["status"] as? String == "away")
            let list = try await client.get("/api/v2/presence/sam?include=sessions", headers: own)
            let sessions = try #require(list.json()["session_list"] as? [[String: Any]])
            #expect(sessions.count == 1 && sessions[0]["device"] as? String == "Pixel")
            #expect(try await client.get("/api/v2/presence/sam?include=everything").errorCode() == "bad_request")
            #expect(try await client.get("/api/v2/presence/sam?include=sessions").status == .unauthorized)
            let badToken: HTTPFields = [.authorization: "Bearer not-a-token"]
            #expect(try await client.get("/api/v2/presence/sam", headers: badToken).status == .ok, "public reads stay public")
            #expect(try await client.get("/api/v2/presence/sam?include=sessions", headers: badToken).status == .unauthorized)
        }
    }

    @Test("message_expires_at must be an RFC 3339 time in the next 30 days", arguments: [
        #""yesterday""#, #""2026-11-21T09:59:59.000Z""#, #""2026-11-21T10:00:00Z""#, #""2027-01-30T10:00:00Z""#, "42",
        #""2026-11-21 10:00:00Z""#,
    ])
    func messageExpiryIsValidated(value: String) async throws {
        try await RouterFixture().test { client in
            let response = try await client.put(
                "mo", #"{"status":"online","message":"x","message_expires_at":\#(value)}"#,
                headers: try await RouterFixture.headers(for: "mo"))
            #expect(response.errorCode() == "invalid_message", "\(value)")
        }
    }

    @Test func aMessageReadsEmptyOnceItExpires() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let start = fixture.clock.now
            let expiry = start.adding(seconds: 60)
            let put = try await client.put(
                "mo", #"{"status":"busy","message":"lunch","ttl":600,"message_expires_at":"\#(expiry.rfc3339)"}"#,
                headers: try await RouterFixture.headers(for: "mo"))
            #expect(put.status == .ok)
            let offset = try await client.put(
                "mo2", #"{"status":"busy","message":"x","message_expires_at":"\#(start.adding(seconds: 3600 + 60).rfc3339.dropLast())+01:00"}"#,
                headers: try await RouterFixture.headers(for: "mo2"))
            #expect(offset.status == .ok, "an offset in the future is accepted")
            fixture.clock.advance(seconds: 59.999)
            #expect(try await client.get("/api/v2/presence/mo").json()["message"] as? String == "lunch")
            fixture.clock.advance(seconds: 0.001)
            let after = try await client.get("/api/v2/presence/mo").json()
            #expect(after["message"] as? String == "")
            #expect(after["status"] as? String == "busy")
        }
    }

    @Test func anObserverOfAnInvisibleUserSeesNothingChange() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            let own = try await RouterFixture.headers(for: "ivy")
            _ = try await client.put("ivy", #"{"status":"online","message":"hi"}"#, headers: own)
            let hide = try await client.execute(
                uri: session("ivy", "phone"), method: .put, headers: own, body: ByteBuffer(string: #"{"status":"invisible"}"#))
            #expect(hide.json()["status"] as? String == "invisible")
            let public0 = try await client.get("/api/v2/presence/ivy")
            #expect(public0.json()["status"] as? String == "offline")
            let etag = try #require(public0.headers[.eTag])
            let body0 = String(buffer: public0.body)
            let writes: [(String, HTTPRequest.Method, String?)] = [
                (session("ivy", "phone") + "/heartbeat", .post, nil),
                (session("ivy", "phone"), .put, #"{"status":"invisible","message":"secret"}"#),
                (session("ivy", "tablet"), .put, #"{"status":"busy"}"#),
                (session("ivy", "tablet"), .delete, nil),
                ("/api/v2/presence/ivy/heartbeat", .post, nil),
                ("/api/v2/presence/ivy", .put, #"{"status":"away","message":"new"}"#),
            ]
            for (uri, method, body) in writes {
                fixture.clock.advance(seconds: 1)
                let written = try await client.execute(uri: uri, method: method, headers: own, body: body.map { ByteBuffer(string: $0) })
                #expect(written.status == .ok, "\(method) \(uri)")
                let cached = try await client.get("/api/v2/presence/ivy", headers: [.ifNoneMatch: etag])
                #expect(cached.status == .notModified, "\(method) \(uri)")
                let fresh = try await client.get("/api/v2/presence/ivy")
                #expect(String(buffer: fresh.body) == body0, "\(method) \(uri)")
                #expect(fresh.headers[.eTag] == etag)
                let batch = try await client.get("/api/v2/presence?users=ivy")
                #expect(String(buffer: batch.body).contains(body0.dropLast()), "\(method) \(uri)")
                let mine = try await client.get("/api/v2/presence/ivy", headers: own)
                #expect(mine.json()["status"] as? String == "invisible")
                #expect(mine.headers[.eTag] != etag, "the user's own view has the real revision")
            }
            let admin = try await client.get("/api/v2/presence/ivy?include=sessions", headers: try await RouterFixture.admin())
            #expect((admin.json()["session_list"] as? [Any])?.count == 2)
        }
    }
}
