import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// `GET /api/v2/audit` (SPEC §3c) over the in-memory repository: who made each change (the
/// token's `sub` and scopes, the request id), admin only, the query validated.
@Suite("Router: audit trail")
struct RouterAuditTests {
    @Test func eachAcceptedWriteIsOneEntryNamingItsTokenAndRequest() async throws {
        let fixture = RouterFixture()
        try await fixture.test { client in
            var alice = try await RouterFixture.headers(for: "alice")
            alice[.xRequestID] = "r-1"
            #expect(try await client.put("alice", #"{"status":"busy","message":"m"}"#, headers: alice).status == .ok)
            // The same write again changes nothing stored, but is a write (a new revision).
            #expect(try await client.put("alice", #"{"status":"busy","message":"m"}"#, headers: alice).status == .ok)
            let heartbeat = try await client.execute(uri: "/api/v2/presence/alice/heartbeat", method: .post, headers: alice)
            #expect(heartbeat.status == .ok)
            let refused = try await client.put("alice", #"{"status":"nope"}"#, headers: alice)
            #expect(refused.status == .badRequest)

            let answer = try await client.get("/api/v2/audit?user=alice", headers: try await RouterFixture.admin())
            #expect(answer.status == .ok)
            let entries = try #require(answer.json()["entries"] as? [[String: Any]])
            #expect(entries.count == 2, "a heartbeat and a refused write leave none: \(entries)")
            #expect(entries.first?["request_id"] as? String == "r-1")
            #expect((entries.first?["by"] as? [String: Any])?["sub"] as? String == "alice")
            #expect(entries.first?["status_before"] as? String == "none")
            #expect(entries.last?["status_before"] as? String == "busy")
            #expect(entries.last?["message_changed"] as? Bool == false)

            // A page ends where `next` says; the next page goes on after it.
            let first = try await client.get("/api/v2/audit?limit=1", headers: try await RouterFixture.admin()).json()
            #expect((first["entries"] as? [[String: Any]])?.first?["status_before"] as? String == "none")
            let next = try #require(first["next"] as? String)
            #expect(first["more"] as? Bool == true)
            let second = try await client.get("/api/v2/audit?limit=1&after=\(next)", headers: try await RouterFixture.admin()).json()
            #expect((second["entries"] as? [[String: Any]])?.first?["status_before"] as? String == "busy")
            #expect(second["more"] as? Bool == false && second["next"] == nil)
        }
    }

    @Test func onlyAdminTokensReadItAndBadQueriesAre400() async throws {
        try await RouterFixture().test { client in
            let alice = try await RouterFixture.headers(for: "alice")
            #expect(try await client.get("/api/v2/audit", headers: alice).status == .forbidden)
            #expect(try await client.get("/api/v2/audit").status == .unauthorized)
            let admin = try await RouterFixture.admin()
            for query in ["since=1h", "limit=-1", "limit=1001", "limit=", "user=", "user=%ZZ", "after=", "after=0.0", "after=x", "after=1.2.3"] {
                let answer = try await client.get("/api/v2/audit?\(query)", headers: admin)
                #expect(answer.status == .badRequest, "\(query)")
            }
            #expect(try await client.get("/api/v2/audit?limit=1000&since=2999-01-01T00:00:00Z", headers: admin).status == .ok)
        }
    }
}
