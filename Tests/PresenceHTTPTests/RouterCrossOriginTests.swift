import Hummingbird
import HummingbirdTesting
import PresenceCore
import Testing

@testable import PresenceHTTP

/// CORS for browser apps (`service.http.cors.allowed_origins`, SPEC §3 and §7).
@Suite("Router: CORS")
struct RouterCrossOriginTests {
    let app = "https://app.example.com"

    func preflight(_ client: any TestClientProtocol, _ uri: String, origin: String, method: String = "PUT") async throws
        -> TestResponse
    {
        try await client.execute(
            uri: uri, method: .options,
            headers: [
                .origin: origin, .accessControlRequestMethod: method,
                .accessControlRequestHeaders: "authorization, content-type, if-match",
            ])
    }

    @Test func aListedOriginGetsPreflightsAndHeadersOnEveryAnswer() async throws {
        try await RouterFixture { $0.corsAllowedOrigins = [app, "http://localhost:3000"] }.test { client in
            for uri in ["/api/v2/presence/alice", "/api/v2/presence/alice/sessions/phone", "/api/v2/presence/stream?users=a"] {
                let answer = try await preflight(client, uri, origin: app)
                #expect(answer.status.code < 300, "\(uri)")
                #expect(answer.headers[.accessControlAllowOrigin] == app)
                let allowed = answer.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
                for header in ["authorization", "content-type", "if-match", "if-none-match", "last-event-id"] {
                    #expect(allowed.contains(header), "\(header) in \(allowed)")
                }
                #expect(answer.headers[.accessControlAllowMethods]?.contains("PUT") == true)
            }
            let own = try await RouterFixture.headers(for: "alice")
            var headers = own
            headers[.origin] = app
            let put = try await client.execute(
                uri: "/api/v2/presence/alice", method: .put, headers: headers, body: ByteBuffer(string: #"{"status":"online"}"#))
            #expect(put.status == .ok)
            #expect(put.headers[.accessControlAllowOrigin] == app)
            #expect(put.headers[.accessControlExposeHeaders]?.contains("ETag") == true)
            // An error answer carries them too, or the page could not read why.
            let missing = try await client.get("/api/v2/presence/nobody", headers: [.origin: app])
            #expect(missing.status == .notFound)
            #expect(missing.headers[.accessControlAllowOrigin] == app)
        }
    }

    @Test func anotherOriginGetsNoAllowOrigin() async throws {
        try await RouterFixture { $0.corsAllowedOrigins = ["https://App.Example.com"] }.test { client in
            let answer = try await preflight(client, "/api/v2/presence/alice", origin: "https://evil.example")
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
            let read = try await client.get("/api/v2/presence/alice", headers: [.origin: "https://evil.example"])
            #expect(read.headers[.accessControlAllowOrigin] == nil)
            // Every answer varies by Origin, so a shared cache keeps them apart.
            #expect(read.headers[.vary]?.contains("Origin") == true)
            let plain = try await client.get("/api/v2/presence/alice")
            #expect(plain.headers[.vary]?.contains("Origin") == true)
            let listed = try await client.get("/api/v2/presence/alice", headers: [.origin: app])
            #expect(listed.headers[.accessControlAllowOrigin] == app, "origins compare without case")
        }
    }

    @Test func aStarAllowsAnyOriginAndNoListSendsNothing() async throws {
        try await RouterFixture { $0.corsAllowedOrigins = ["*"] }.test { client in
            let read = try await client.get("/api/v2/presence/alice", headers: [.origin: "https://anywhere.example"])
            #expect(read.headers[.accessControlAllowOrigin] == "*")
        }
        try await RouterFixture().test { client in
            let read = try await client.get("/api/v2/presence/alice", headers: [.origin: app])
            #expect(read.headers[.accessControlAllowOrigin] == nil)
            let answer = try await preflight(client, "/api/v2/presence/alice", origin: app)
            #expect(answer.status == .methodNotAllowed, "without CORS, OPTIONS is a method like any other")
        }
    }
}
