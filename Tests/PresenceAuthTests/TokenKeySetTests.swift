import Foundation
import JWTKit
import NIOConcurrencyHelpers
import PresenceCore
import Testing

@testable import PresenceAuth

/// Keys from several sources (SPEC §4): several PEM keys, JWK Sets chosen by `kid`, key
/// replacement, and 401 messages that say which required claim is missing.
@Suite("Token key sets")
struct TokenKeySetTests {
    static let secret = "0123456789abcdef0123456789abcdef-test-secret"

    private func claims(_ subject: String = "alice") -> PresenceClaims {
        PresenceClaims(sub: subject, exp: ExpirationClaim(value: Date().addingTimeInterval(600)))
    }

    /// A token signed with `key` (RS256), naming `kid` when given.
    private func rsaToken(_ key: JWTKit.Insecure.RSA.PrivateKey, kid: String? = nil) async throws -> String {
        let identifier = kid.map { JWKIdentifier(string: $0) }
        return try await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: identifier)
            .sign(claims(), kid: identifier)
    }

    /// A JWK Set of the public halves of `keys`, by kid (with `alg` RS256 unless `namingAlgorithm` is false).
    private func jwks(_ keys: [(kid: String, key: JWTKit.Insecure.RSA.PrivateKey)], namingAlgorithm: Bool = true) throws -> String {
        let entries = try keys.map { entry in try jwk(entry.kid, entry.key, namingAlgorithm: namingAlgorithm) }
        return #"{"keys":[\#(entries.joined(separator: ","))]}"#
    }

    private func jwk(_ kid: String, _ key: JWTKit.Insecure.RSA.PrivateKey, namingAlgorithm: Bool = true, use: String = "sig") throws -> String {
        let primitives = try key.publicKey.getKeyPrimitives()
        let algorithm = namingAlgorithm ? #""alg":"RS256","# : ""
        return
            #"{"kty":"RSA","kid":"\#(kid)",\#(algorithm)"use":"\#(use)","n":"\#(Self.base64URL(primitives.modulus))","e":"\#(Self.base64URL(primitives.publicExponent))"}"#
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func rejection(_ verifier: TokenVerifier, _ token: String) async -> String? {
        do {
            _ = try await verifier.verify(token: token)
            return nil
        } catch {
            #expect(error.code == .unauthorized)
            return error.message
        }
    }

    @Test func aPEMFileWithTwoKeysAcceptsTokensOfEitherAndNoOther() async throws {
        let pem = TestKeys.rsa.publicKey.pemRepresentation + "\n" + TestKeys.otherRSA.publicKey.pemRepresentation
        #expect(TokenKeySet.pemBlocks(pem).count == 2)
        let verifier = try await TokenVerifier(settings: .init(publicKeyPEM: pem))
        #expect(try await verifier.verify(token: rsaToken(TestKeys.rsa)).subject == "alice")
        #expect(try await verifier.verify(token: rsaToken(TestKeys.otherRSA)).subject == "alice")
        let onlyFirst = try await TokenVerifier(settings: .init(publicKeyPEM: TestKeys.rsaPublicPEM))
        #expect(await rejection(onlyFirst, try await rsaToken(TestKeys.otherRSA)) != nil)
    }

    @Test func aJWKSChoosesTheKeyByKid() async throws {
        let set = try jwks([("one", TestKeys.rsa), ("two", TestKeys.otherRSA)])
        let verifier = try await TokenVerifier(settings: .init(jwks: [set]))
        #expect(try await verifier.verify(token: rsaToken(TestKeys.rsa, kid: "one")).subject == "alice")
        #expect(try await verifier.verify(token: rsaToken(TestKeys.otherRSA, kid: "two")).subject == "alice")
        // A key named for another key's token is a bad signature, not a lucky match.
        #expect(await rejection(verifier, try await rsaToken(TestKeys.rsa, kid: "two")) == "the token is invalid or badly signed")
        #expect(await rejection(verifier, try await rsaToken(TestKeys.rsa, kid: "three")) == #"the token's key (kid "three") is not known"#)
        #expect(await rejection(verifier, try await rsaToken(TestKeys.rsa)) == "the token has no kid header, which chooses among the JWK Set's keys")
    }

    @Test func aTokenMayNotNameAnAlgorithmItsKeyIsNotFor() async throws {
        let set = try jwks([("one", TestKeys.rsa)])
        let verifier = try await TokenVerifier(settings: .init(jwks: [set]))
        // HS256 signed with the RSA key's public bytes (algorithm confusion): only the secret does HS256.
        let confused = try HandMadeJWT.hs256(
            payload: ["sub": "mallory", "exp": Int(Date().timeIntervalSince1970) + 60], secret: TestKeys.rsaPublicPEM,
            header: ["alg": "HS256", "typ": "JWT", "kid": "one"])
        #expect(await rejection(verifier, confused) == "the token's algorithm is not accepted")
        let es = try HandMadeJWT.signingInput(
            header: ["alg": "ES256", "kid": "one"], payload: ["sub": "mallory", "exp": Int(Date().timeIntervalSince1970) + 60])
        #expect(await rejection(verifier, es + ".c2ln") == "the token's algorithm is not accepted")
    }

    @Test func aKeyWithoutAlgServesEveryAlgorithmOfItsTypeAndAProbeCannotFixOne() async throws {
        let verifier = try await TokenVerifier(settings: .init(jwks: [try jwks([("one", TestKeys.rsa)], namingAlgorithm: false)]))
        let exp = Int(Date().timeIntervalSince1970) + 60
        // A PS256 token with a junk signature first: jwt-kit would otherwise fix the key to PS256.
        let probe = try HandMadeJWT.signingInput(header: ["alg": "PS256", "kid": "one"], payload: ["sub": "mallory", "exp": exp])
        #expect(await rejection(verifier, probe + ".c2ln") == "the token is invalid or badly signed")
        #expect(try await verifier.verify(token: rsaToken(TestKeys.rsa, kid: "one")).subject == "alice")
        let es = try HandMadeJWT.signingInput(header: ["alg": "ES256", "kid": "one"], payload: ["sub": "mallory", "exp": exp])
        #expect(await rejection(verifier, es + ".c2ln") == "the token's algorithm is not accepted")
    }

    @Test func keysThatAreNotForSigningOrCannotBeUsedAreLeftOutAndTheRestServe() async throws {
        let set = #"{"keys":[\#(try jwk("enc", TestKeys.otherRSA, use: "enc")),{"kty":"oct","kid":"x","k":"AAAA"},"#
            + #"{"kty":"EC","kid":"odd","crv":"secp256k1","x":"AA","y":"AA"},{"kty":"RSA","kid":"bad","n":"AQAB","e":"AQAB"},"#
            + #"\#(try jwk("one", TestKeys.rsa))]}"#
        let keys = try await TokenKeySet(.init(jwks: [set]))
        #expect(keys.count == 1 && keys.skippedKeys == 4)
        let verifier = try await TokenVerifier(settings: .init(jwks: [set]))
        #expect(try await verifier.verify(token: rsaToken(TestKeys.rsa, kid: "one")).subject == "alice")
        #expect(await rejection(verifier, try await rsaToken(TestKeys.otherRSA, kid: "enc")) != nil, "an encryption key does not verify")
    }

    @Test func replacedKeysVerifyAgainWhatWasVerifiedWithTheOldOnes() async throws {
        let verifier = try await TokenVerifier(settings: .init(jwks: [try jwks([("one", TestKeys.rsa)])]))
        let token = try await rsaToken(TestKeys.rsa, kid: "one")
        #expect(try await verifier.verify(token: token).subject == "alice")
        verifier.keys.replace(try await TokenKeySet(.init(jwks: [try jwks([("two", TestKeys.otherRSA)])])))
        #expect(await rejection(verifier, token) != nil, "a remembered token does not outlive its key")
        #expect(try await verifier.verify(token: rsaToken(TestKeys.otherRSA, kid: "two")).subject == "alice")
    }

    @Test func anUnknownKidAsksForTheKeysOnceAndUsesWhatCame() async throws {
        let verifier = try await TokenVerifier(settings: .init(jwks: [try jwks([("one", TestKeys.rsa)])]))
        let fetched = try await TokenKeySet(.init(jwks: [try jwks([("two", TestKeys.otherRSA)])]))
        let asked = NIOLockedCounter()
        verifier.keys.onUnknownKey { [keys = verifier.keys] in
            asked.increment()
            keys.replace(fetched)
        }
        #expect(try await verifier.verify(token: rsaToken(TestKeys.otherRSA, kid: "two")).subject == "alice")
        #expect(asked.value == 1)
    }

    @Test func theMessageNamesAMissingRequiredClaim() async throws {
        let verifier = try await TokenVerifier(settings: .init(secret: Self.secret))
        let exp = Int(Date().timeIntervalSince1970) + 60
        let noSub = try HandMadeJWT.hs256(payload: ["exp": exp], secret: Self.secret)
        #expect(await rejection(verifier, noSub) == "the token has no sub claim, which is required")
        let noExp = try HandMadeJWT.hs256(payload: ["sub": "alice"], secret: Self.secret)
        #expect(await rejection(verifier, noExp) == "the token has no exp claim, which is required")
    }

    @Test func materialWithoutAnyKeyOrWithAnUnusableOneIsRefused() async throws {
        await #expect(throws: TokenKeySet.MaterialError.self) { try await TokenKeySet(.init()) }
        await #expect(throws: TokenKeySet.MaterialError.self) { try await TokenKeySet(.init(publicKeyPEM: "no pem here")) }
        await #expect(throws: TokenKeySet.MaterialError.self) { try await TokenKeySet(.init(jwks: ["[1,2]"])) }
        // A set of encryption keys only gives nothing to verify with.
        await #expect(throws: TokenKeySet.MaterialError.self) {
            try await TokenKeySet(.init(jwks: [#"{"keys":[{"kty":"oct","kid":"x","k":"AAAA"}]}"#]))
        }
    }
}

/// A thread-safe counter.
final class NIOLockedCounter: Sendable {
    private let box = NIOLockedValueBox(0)
    func increment() { box.withLockedValue { $0 += 1 } }
    var value: Int { box.withLockedValue { $0 } }
}
