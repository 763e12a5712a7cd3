import Hummingbird
import HummingbirdTesting
import PresenceAuth
import PresenceCore
import Testing

@testable import PresenceHTTP

/// Where the token is checked (``TokenAuthenticator``): writes need one; reads need one only
/// without public reads, and then before the read limit; a public read is limited first and
/// looks at a token only to show the owner's own view.
@Suite("Router: authentication")
struct RouterAuthenticationTests {
    /// A verifier whose only key source, a JWK Set URL, has not answered yet.
    static func verifierWaitingForKeys() async throws -> TokenVerifier {
        var settings = TokenVerifier.Settings()
        settings.keysFollow = true
        let verifier = try await TokenVerifier(settings: settings)
        verifier.keys.setMissing("no token keys yet: auth.jwks_url has not answered yet")
        return verifier
    }

    @Test func whileTheKeysAreNotLoadedATokenIs503ButPublicReadsStayPublic() async throws {
        let fixture = RouterFixture()
        let own = try await RouterFixture.headers(for: "kim")
        try await fixture.test { (client: any TestClientProtocol) async throws in
            #expect(try await client.put("kim", #"{"status":"online"}"#, headers: own).status == .ok)
        }
        try await fixture.test(over: fixture.repository, verifier: try await Self.verifierWaitingForKeys()) { client in
            let write = try await client.put("kim", #"{"status":"away"}"#, headers: own)
            #expect(write.status == .serviceUnavailable)
            #expect(write.errorCode() == "unavailable")
            #expect(write.headers[.retryAfter] == "5")
            #expect(write.headers[.wwwAuthenticate] == nil)
            let anonymous = try await client.put("kim", #"{"status":"away"}"#, headers: [.contentType: "application/json"])
            #expect(anonymous.status == .unauthorized, "no token is 401 whatever the keys")
            let read = try await client.get("/api/v2/presence/kim", headers: own)
            #expect(read.status == .ok)
            #expect(read.json()["status"] as? String == "online")
            #expect(try await client.get("/api/v2/presence?users=kim", headers: own).status == .ok)
            let sessions = try await client.get("/api/v2/presence/kim?include=sessions", headers: own)
            #expect(sessions.status == .serviceUnavailable)
            #expect(sessions.headers[.retryAfter] == "5")
        }
    }

    @Test func privateReadsCheckTheTokenBeforeTheReadLimit() async throws {
        let fixture = RouterFixture {
            $0.publicReads = false
            $0.readsPerSecond = 0.001
            $0.readBurst = 1
        }
        try await fixture.test { client in
            let own = try await RouterFixture.headers(for: "kim")
            #expect(try await client.get("/api/v2/presence/kim", headers: own).status == .notFound)
            for uri in ["/api/v2/presence/kim", "/api/v2/presence?users=kim", "/api/v2/presence/stream?users=kim"] {
                let anonymous = try await client.get(uri)
                #expect(anonymous.status == .unauthorized, "\(uri)")
                #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            let batch = try await client.execute(
                uri: "/api/v2/presence/batch", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"user_ids":["kim"]}"#))
            #expect(batch.status == .unauthorized)
            let limited = try await client.get("/api/v2/presence/kim?include=sessions", headers: own)
            #expect(limited.status == .tooManyRequests, "the token passed; the limit is next")
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func publicReadsAreLimitedBeforeAnyTokenIsLookedAt() async throws {
        let fixture = RouterFixture {
            $0.readsPerSecond = 0.001
            $0.readBurst = 1
        }
        try await fixture.test { client in
            let badToken: HTTPFields = [.authorization: "Bearer not-a-token"]
            #expect(try await client.get("/api/v2/presence/kim", headers: badToken).status == .notFound)
            let limited = try await client.get("/api/v2/presence/kim?include=sessions", headers: badToken)
            #expect(limited.status == .tooManyRequests, "429, not the 401 of the token")
        }
    }

    @Test func anInvalidPathComesBeforeTheTokenOfARead() async throws {
        try await RouterFixture().test { client in
            let badToken: HTTPFields = [.authorization: "Bearer not-a-token"]
            let response = try await client.get("/api/v2/presence/b%20ad?include=sessions", headers: badToken)
            #expect(response.errorCode() == "invalid_user_id")
            #expect(try await client.get("/api/v2/presence/kim?include=everything", headers: badToken).errorCode() == "bad_request")
        }
    }
}
