import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// `X-Request-ID` on every answer (SPEC §3).
@Suite("Router: X-Request-ID")
struct RouterRequestIDTests {
    @Test func aClientsIDIsEchoedAndAnotherIsGenerated() async throws {
        try await RouterFixture().test { client in
            let echoed = try await client.get("/api/v2/presence/nobody", headers: [.xRequestID: "trace-42 abc"])
            #expect(echoed.status == .notFound)
            #expect(echoed.headers[.xRequestID] == "trace-42 abc")
            var seen = Set<String>()
            for uri in ["/health/live", "/no/such/path", "/api/v2/presence/bad%20id"] {
                let answer = try await client.get(uri)
                let id = try #require(answer.headers[.xRequestID], "\(uri)")
                #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(id)")
                seen.insert(id)
            }
            #expect(seen.count == 3, "a new id per request")
            for refused in [String(repeating: "x", count: 129), "tab\there", "é"] {
                let answer = try await client.get("/health/live", headers: [.xRequestID: refused])
                #expect(answer.headers[.xRequestID] != refused)
                #expect(answer.headers[.xRequestID]?.count == 32)
            }
        }
    }
}
