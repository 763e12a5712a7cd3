import Foundation
import PresenceCore
import NIOConcurrencyHelpers
import Testing

@testable import PresenceAuth

@Suite("Verified-token cache")
struct VerifiedTokenCacheTests {
    static let secret = TokenVerifierTests.secret

    /// A verifier whose clock the test moves.
    final class MovableClock: Sendable {
        let now = NIOLockedValueBox(TokenVerifierTests.now)
        func advance(seconds: TimeInterval) { now.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
    }

    func verifier(clock: MovableClock, capacity: Int = 10_000) async throws -> TokenVerifier {
        try await TokenVerifier(
            settings: .init(secret: Self.secret), cacheCapacity: capacity, clock: { clock.now.withLockedValue { $0 } })
    }

    @Test func aCachedTokenStillExpires() async throws {
        let clock = MovableClock()
        let verifier = try await verifier(clock: clock)
        let token = try await TokenIssuer(secret: Self.secret).token(subject: "alice", lifetime: 60, now: TokenVerifierTests.now)
        #expect(try await verifier.verify(token: token).subject == "alice")
        #expect(verifier.verified.count == 1)
        clock.advance(seconds: 30)
        #expect(try await verifier.verify(token: token).subject == "alice")
        clock.advance(seconds: 60)
        await #expect(throws: PresenceError.self) { try await verifier.verify(token: token) }
        do {
            _ = try await verifier.verify(token: token)
        } catch {
            #expect(error.message.contains("expired"))
        }
    }

    @Test func rejectedTokensAreNeverCached() async throws {
        let verifier = try await verifier(clock: MovableClock())
        let forged = try await TokenIssuer(secret: Self.secret + "-other").token(subject: "mallory", now: TokenVerifierTests.now)
        for _ in 0..<2 {
            await #expect(throws: PresenceError.self) { try await verifier.verify(token: forged) }
        }
        #expect(verifier.verified.count == 0)
    }

    @Test func aCachedTokenKeepsItsIdentity() async throws {
        let verifier = try await verifier(clock: MovableClock())
        let issuer = await TokenIssuer(secret: Self.secret)
        let admin = try await issuer.token(subject: "root", scopes: ["presence:admin"], now: TokenVerifierTests.now)
        let user = try await issuer.token(subject: "bob", now: TokenVerifierTests.now)
        for _ in 0..<3 {
            #expect(try await verifier.verify(token: admin) == .init(subject: "root", isAdmin: true, scopes: ["presence:admin"]))
            #expect(try await verifier.verify(token: user) == .init(subject: "bob", isAdmin: false))
        }
        #expect(verifier.verified.count == 2)
    }

    @Test func aLookAlikeOfACachedTokenIsRefused() async throws {
        let verifier = try await verifier(clock: MovableClock())
        let issuer = await TokenIssuer(secret: Self.secret)
        // A token with a "K" in it (issuance is deterministic at a fixed time).
        var token = ""
        for index in 0..<200 where !token.contains("K") {
            token = try await issuer.token(subject: "user\(index)", now: TokenVerifierTests.now)
        }
        try #require(token.contains("K"))
        #expect(try await verifier.verify(token: token).subject.hasPrefix("user"))
        // Swift Strings compare by canonical equivalence: "K" and the Kelvin sign (U+212A)
        // are equal as Strings, but only the first spells the token.
        let lookAlike = token.replacingOccurrences(of: "K", with: "\u{212A}")
        #expect(lookAlike == token)
        await #expect(throws: PresenceError.self) { try await verifier.verify(token: lookAlike) }
        await #expect(throws: PresenceError.self) { try await verifier.verify(token: token + "\u{E9}") }
    }

    @Test func theCacheIsBounded() async throws {
        let clock = MovableClock()
        let verifier = try await verifier(clock: clock, capacity: 3)
        let issuer = await TokenIssuer(secret: Self.secret)
        for index in 0..<10 {
            let token = try await issuer.token(subject: "user\(index)", now: TokenVerifierTests.now)
            #expect(try await verifier.verify(token: token).subject == "user\(index)")
            #expect(verifier.verified.count <= 3)
        }
        #expect(verifier.verified.count == 3)
    }

    @Test func capacityZeroCachesNothing() async throws {
        let verifier = try await verifier(clock: MovableClock(), capacity: 0)
        let token = try await TokenIssuer(secret: Self.secret).token(subject: "alice", now: TokenVerifierTests.now)
        #expect(try await verifier.verify(token: token).subject == "alice")
        #expect(verifier.verified.count == 0)
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test func decodesWhatFoundationEncodes() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.decode(Array(encoded.utf8)) == bytes, "length \(length)")
        }
    }

    @Test(arguments: ["A", "AAAAA", "ab=c", "a+bc", "a/bc", "ab c", "é"])
    func refusesWhatIsNotUnpaddedBase64URL(_ text: String) {
        #expect(Base64URL.decode(Array(text.utf8)) == nil)
    }
}
