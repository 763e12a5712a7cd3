import Foundation
import PresenceCore
import Testing

@testable import PresenceAuth

/// `Authorization: Bearer <token>`: the token is taken with the spaces and tabs around it
/// removed, scalar by scalar.
@Suite("TokenVerifier: the Authorization header")
struct AuthorizationHeaderTests {
    static let secret = "0123456789abcdef0123456789abcdef-test-secret"

    @Test func blanksAroundTheTokenAreRemovedAndBlanksAloneAreNoToken() {
        #expect(HeaderValue.trimmed(" \t a.b.c \t") == "a.b.c")
        #expect(HeaderValue.trimmed("a.b.c") == "a.b.c")
        #expect(HeaderValue.trimmed(" \t ") == "")
        #expect(HeaderValue.trimmed("") == "")
        // A space followed by a combining mark is one Character, but two scalars: the space goes.
        #expect(HeaderValue.trimmed(" \u{301}a") == "\u{301}a")
    }

    @Test(arguments: ["Bearer \t", "Bearer \t \t", "Bearer  \u{301}a.b.c"])
    func aHeaderWithoutAUsableTokenIsMalformed(header: String) async throws {
        let verifier = try await TokenVerifier(settings: .init(secret: Self.secret))
        do {
            let identity = try await verifier.verify(authorization: header)
            Issue.record("accepted \(header) as \(identity)")
        } catch {
            #expect(error.code == .unauthorized)
            #expect(error.message == "the token is malformed")
        }
    }

    @Test func aTokenBetweenTabsIsAccepted() async throws {
        let token = try await TokenIssuer(secret: Self.secret).token(subject: "alice")
        let verifier = try await TokenVerifier(settings: .init(secret: Self.secret))
        #expect(try await verifier.verify(authorization: "Bearer \t\(token)\t ").subject == "alice")
    }
}
