import Crypto
import Foundation
import JWTKit
import PresenceCore
import Testing
import _CryptoExtras

@testable import PresenceAuth

/// RSA keys are slow to generate: made once per test process.
enum TestKeys {
    static let rsa: JWTKit.Insecure.RSA.PrivateKey = {
        let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        return try! JWTKit.Insecure.RSA.PrivateKey(pem: key.pemRepresentation)
    }()
    static let otherRSA: JWTKit.Insecure.RSA.PrivateKey = {
        let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        return try! JWTKit.Insecure.RSA.PrivateKey(pem: key.pemRepresentation)
    }()
    static var rsaPublicPEM: String { rsa.publicKey.pemRepresentation }
}

@Suite("TokenVerifier")
struct TokenVerifierTests {
    static let secret = "0123456789abcdef0123456789abcdef-test-secret"
    /// 2026-11-21T10:00:00Z, the verifier's clock in every test.
    static let now = Date(timeIntervalSince1970: 1_795_255_200)
    static var nowSeconds: Int { Int(now.timeIntervalSince1970) }

    func verifier(
        secret: String? = Self.secret, publicKeyPEM: String? = nil, issuer: String = "", audience: String = "",
        leeway: Int = 5
    ) async throws -> TokenVerifier {
        var settings = TokenVerifier.Settings(secret: secret, publicKeyPEM: publicKeyPEM)
        settings.issuer = issuer
        settings.audience = audience
        settings.leewaySeconds = leeway
        let now = Self.now
        return try await TokenVerifier(settings: settings, clock: { now })
    }

    func payload(sub: String? = "alice", expIn: Int? = 3600, extra: [String: Any] = [:]) -> [String: Any] {
        var claims = extra
        if let sub { claims["sub"] = sub }
        if let expIn { claims["exp"] = Self.nowSeconds + expIn }
        return claims
    }

    func expectRejected(
        _ verifier: TokenVerifier, _ token: String, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            let identity = try await verifier.verify(token: token)
            Issue.record("token accepted as \(identity) \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .unauthorized, comment, sourceLocation: sourceLocation)
        }
        do {
            let identity = try await verifier.verify(authorization: "Bearer \(token)")
            Issue.record("header accepted as \(identity) \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .unauthorized, comment, sourceLocation: sourceLocation)
        }
    }

    // MARK: HS256

    @Test func issuedHS256TokenIsAccepted() async throws {
        let token = try await TokenIssuer(secret: Self.secret).token(subject: "alice", now: Self.now)
        let identity = try await verifier().verify(authorization: "Bearer \(token)")
        #expect(identity == TokenVerifier.Identity(subject: "alice", isAdmin: false))
    }

    @Test func handMadeHS256TokenIsAccepted() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(sub: "bob@example.com"), secret: Self.secret)
        let identity = try await verifier().verify(token: token)
        #expect(identity.subject == "bob@example.com")
        #expect(!identity.isAdmin)
    }

    /// A `kid` selects a JWK (docs/security.md, Token keys); the secret has none, so an HS256 token
    /// naming one is not verified with it, whether or not a JWK has that `kid`.
    @Test func anHS256TokenThatNamesAKidIsNotVerifiedWithTheSecret() async throws {
        let primitives = try TestKeys.rsa.publicKey.getKeyPrimitives()
        let jwks =
            #"{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","n":"\#(HandMadeJWT.base64URL(primitives.modulus))","e":"\#(HandMadeJWT.base64URL(primitives.publicExponent))"}]}"#
        var settings = TokenVerifier.Settings(secret: Self.secret)
        settings.jwks = [jwks]
        let now = Self.now
        let withJWKS = try await TokenVerifier(settings: settings, clock: { now })
        #expect(withJWKS.keys.count == 2, "the secret and k1")
        for verifier in [try await verifier(), withJWKS] {
            for kid in ["k1", "k9", ""] {
                let header: [String: Any] = ["alg": "HS256", "typ": "JWT", "kid": kid]
                await expectRejected(
                    verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret, header: header), "kid \(kid)")
            }
            // Without a kid the secret verifies it, as before.
            #expect(try await verifier.verify(token: HandMadeJWT.hs256(payload: payload(), secret: Self.secret)).subject == "alice")
        }
    }

    @Test func wrongSecretIsRejected() async throws {
        let verifier = try await verifier()
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret + "x"))
        await expectRejected(verifier, try await TokenIssuer(secret: "another secret").token(subject: "alice", now: Self.now))
    }

    @Test func tamperedPayloadIsRejected() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(sub: "alice"), secret: Self.secret)
        let parts = token.split(separator: ".").map(String.init)
        let forged = try HandMadeJWT.segment(payload(sub: "mallory", extra: ["scope": "presence:admin"]))
        await expectRejected(try await verifier(), "\(parts[0]).\(forged).\(parts[2])")
        // Dropping or mangling the signature does not help either.
        await expectRejected(try await verifier(), "\(parts[0]).\(parts[1]).")
        await expectRejected(try await verifier(), "\(parts[0]).\(parts[1]).AAAA")
    }

    // MARK: exp, nbf, leeway

    @Test func expiryHonoursTheLeeway() async throws {
        let verifier = try await verifier(leeway: 5)
        for expIn in [3600, 1, 0, -1, -4] {
            let token = try HandMadeJWT.hs256(payload: payload(expIn: expIn), secret: Self.secret)
            #expect(try await verifier.verify(token: token).subject == "alice", "exp in \(expIn) s")
        }
        for expIn in [-6, -60, -86_400] {
            await expectRejected(
                verifier, try HandMadeJWT.hs256(payload: payload(expIn: expIn), secret: Self.secret), "exp in \(expIn) s")
        }
    }

    @Test func zeroLeewayRejectsAnyPastExpiry() async throws {
        let verifier = try await verifier(leeway: 0)
        #expect(try await verifier.verify(token: HandMadeJWT.hs256(payload: payload(expIn: 1), secret: Self.secret)).subject == "alice")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(expIn: -1), secret: Self.secret))
    }

    @Test func issuerTokensExpireOnTheVerifiersClock() async throws {
        let issuer = await TokenIssuer(secret: Self.secret)
        let stale = try await issuer.token(subject: "alice", lifetime: 60, now: Self.now.addingTimeInterval(-120))
        await expectRejected(try await verifier(), stale)
        let fresh = try await issuer.token(subject: "alice", lifetime: 60, now: Self.now.addingTimeInterval(-57))
        #expect(try await verifier().verify(token: fresh).subject == "alice")
    }

    @Test func notBeforeHonoursTheLeeway() async throws {
        let verifier = try await verifier(leeway: 5)
        for nbfIn in [-3600, 0, 3, 4] {
            let token = try HandMadeJWT.hs256(payload: payload(extra: ["nbf": Self.nowSeconds + nbfIn]), secret: Self.secret)
            #expect(try await verifier.verify(token: token).subject == "alice", "nbf in \(nbfIn) s")
        }
        for nbfIn in [6, 60, 3000] {
            let token = try HandMadeJWT.hs256(payload: payload(extra: ["nbf": Self.nowSeconds + nbfIn]), secret: Self.secret)
            await expectRejected(verifier, token, "nbf in \(nbfIn) s")
        }
    }

    // MARK: required claims

    @Test func missingSubOrExpIsRejected() async throws {
        let verifier = try await verifier()
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(sub: nil), secret: Self.secret), "no sub")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(expIn: nil), secret: Self.secret), "no exp")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(sub: nil, expIn: nil), secret: Self.secret), "neither")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(sub: ""), secret: Self.secret), "empty sub")
        await expectRejected(
            verifier, try HandMadeJWT.hs256(payload: ["sub": "alice", "exp": "tomorrow"], secret: Self.secret), "exp as text")
        await expectRejected(
            verifier, try HandMadeJWT.hs256(payload: ["sub": 42, "exp": Self.nowSeconds + 60], secret: Self.secret), "sub as number")
    }

    // MARK: algorithms

    @Test("alg none is rejected", arguments: ["none", "None", "NONE", "nOnE"])
    func algNone(alg: String) async throws {
        let verifier = try await verifier()
        let payload = payload(extra: ["scope": "presence:admin"])
        await expectRejected(verifier, try HandMadeJWT.unsecured(payload: payload, alg: alg))
        // Even with a valid HS256 signature attached.
        let header: [String: Any] = ["alg": alg, "typ": "JWT"]
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload, secret: Self.secret, header: header))
    }

    @Test func unknownOrMissingAlgIsRejected() async throws {
        let verifier = try await verifier()
        for header in [["alg": "HS512"], ["alg": "HS384"], ["alg": "hs256"], ["typ": "JWT"], ["alg": 256]] as [[String: Any]] {
            await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret, header: header), "\(header)")
        }
    }

    @Test func hs256IsRejectedByAnRSAOnlyVerifier() async throws {
        let pem = TestKeys.rsaPublicPEM
        let verifier = try await verifier(secret: nil, publicKeyPEM: pem)
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret), "HS256 with a secret")
        await expectRejected(verifier, try await TokenIssuer(secret: Self.secret).token(subject: "alice", now: Self.now))
        // The classic confusion attack: the public key's PEM text used as the HMAC secret.
        for secretText in [pem, pem.trimmingCharacters(in: .whitespacesAndNewlines), pem + "\n"] {
            await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: secretText), "HS256 keyed with the PEM")
            // And the same MAC under an RS256 header.
            let header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
            await expectRejected(
                verifier, try HandMadeJWT.hs256(payload: payload(), secret: secretText, header: header), "RS256 header, HMAC signature")
        }
        // The DER bytes of the key as the secret.
        let der = TestKeys.rsa.publicKey.derRepresentation
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: der), "HS256 keyed with the DER")
    }

    @Test func confusionIsRejectedWhenBothKeysAreConfigured() async throws {
        let pem = TestKeys.rsaPublicPEM
        let verifier = try await verifier(secret: Self.secret, publicKeyPEM: pem)
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: pem), "HS256 keyed with the PEM")
        // Both legitimate forms still work.
        #expect(try await verifier.verify(token: HandMadeJWT.hs256(payload: payload(), secret: Self.secret)).subject == "alice")
        let rsaKeys = await JWTKeyCollection().add(rsa: TestKeys.rsa, digestAlgorithm: .sha256)
        let rs256 = try await rsaKeys.sign(PresenceClaims(sub: "bob", exp: .init(value: Self.now.addingTimeInterval(60))))
        #expect(try await verifier.verify(token: rs256).subject == "bob")
    }

    @Test func rs256SignedWithJWTKitIsAccepted() async throws {
        let keys = await JWTKeyCollection().add(rsa: TestKeys.rsa, digestAlgorithm: .sha256)
        let claims = PresenceClaims(
            sub: "alice", exp: .init(value: Self.now.addingTimeInterval(300)), scope: ["presence:admin"])
        let token = try await keys.sign(claims)
        #expect(JWTHeaderPeek.alg(of: token) == "RS256")
        let verifier = try await verifier(secret: nil, publicKeyPEM: TestKeys.rsaPublicPEM)
        let identity = try await verifier.verify(authorization: "Bearer \(token)")
        #expect(identity == TokenVerifier.Identity(subject: "alice", isAdmin: true, scopes: ["presence:admin"]))
        // Expiry still applies to RS256 tokens.
        let expired = try await keys.sign(PresenceClaims(sub: "alice", exp: .init(value: Self.now.addingTimeInterval(-60))))
        await expectRejected(verifier, expired, "expired RS256")
    }

    @Test func rs256FromAnotherKeyIsRejected() async throws {
        let keys = await JWTKeyCollection().add(rsa: TestKeys.otherRSA, digestAlgorithm: .sha256)
        let token = try await keys.sign(PresenceClaims(sub: "alice", exp: .init(value: Self.now.addingTimeInterval(300))))
        await expectRejected(try await verifier(secret: nil, publicKeyPEM: TestKeys.rsaPublicPEM), token)
        // And an RS256 token means nothing to an HS256-only verifier.
        await expectRejected(try await verifier(), token)
    }

    @Test func es256SignedWithJWTKitIsAccepted() async throws {
        let key = ES256PrivateKey()
        let keys = await JWTKeyCollection().add(ecdsa: key)
        let token = try await keys.sign(PresenceClaims(sub: "carol", exp: .init(value: Self.now.addingTimeInterval(300))))
        #expect(JWTHeaderPeek.alg(of: token) == "ES256")
        let verifier = try await verifier(secret: nil, publicKeyPEM: key.publicKey.pemRepresentation)
        #expect(try await verifier.verify(token: token) == TokenVerifier.Identity(subject: "carol", isAdmin: false))

        let otherKeys = await JWTKeyCollection().add(ecdsa: ES256PrivateKey())
        let foreign = try await otherKeys.sign(PresenceClaims(sub: "carol", exp: .init(value: Self.now.addingTimeInterval(300))))
        await expectRejected(verifier, foreign, "ES256 from another key")
        // An ES256 token is not accepted by an RSA verifier, nor an RS256 token by an EC verifier.
        await expectRejected(try await self.verifier(secret: nil, publicKeyPEM: TestKeys.rsaPublicPEM), token, "ES256 to RSA")
        let rsaKeys = await JWTKeyCollection().add(rsa: TestKeys.rsa, digestAlgorithm: .sha256)
        let rs256 = try await rsaKeys.sign(PresenceClaims(sub: "carol", exp: .init(value: Self.now.addingTimeInterval(300))))
        await expectRejected(verifier, rs256, "RS256 to EC")
        // HMAC keyed with the EC PEM.
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: key.publicKey.pemRepresentation))
    }

    // MARK: iss and aud

    @Test func issuerIsRequiredWhenConfigured() async throws {
        let verifier = try await verifier(issuer: "https://auth.example.com")
        let good = try HandMadeJWT.hs256(payload: payload(extra: ["iss": "https://auth.example.com"]), secret: Self.secret)
        #expect(try await verifier.verify(token: good).subject == "alice")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret), "no iss")
        await expectRejected(
            verifier, try HandMadeJWT.hs256(payload: payload(extra: ["iss": "https://evil.example.com"]), secret: Self.secret), "wrong iss")
        await expectRejected(
            verifier, try HandMadeJWT.hs256(payload: payload(extra: ["iss": "https://auth.example.com/"]), secret: Self.secret), "near iss")
        let issued = try await TokenIssuer(secret: Self.secret).token(subject: "alice", issuer: "https://auth.example.com", now: Self.now)
        #expect(try await verifier.verify(token: issued).subject == "alice")
    }

    @Test func audienceIsRequiredWhenConfigured() async throws {
        let verifier = try await verifier(audience: "presence")
        for aud in ["presence", ["presence"], ["other", "presence"]] as [Any] {
            let token = try HandMadeJWT.hs256(payload: payload(extra: ["aud": aud]), secret: Self.secret)
            #expect(try await verifier.verify(token: token).subject == "alice", "aud \(aud)")
        }
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: Self.secret), "no aud")
        for aud in ["other", ["other"], ["presence-admin"], [String]()] as [Any] {
            await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(extra: ["aud": aud]), secret: Self.secret), "aud \(aud)")
        }
        let issued = try await TokenIssuer(secret: Self.secret).token(subject: "alice", audience: "presence", now: Self.now)
        #expect(try await verifier.verify(token: issued).subject == "alice")
    }

    @Test func issAndAudAreIgnoredWhenNotConfigured() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(extra: ["iss": "anyone", "aud": "anything"]), secret: Self.secret)
        #expect(try await verifier().verify(token: token).subject == "alice")
    }

    // MARK: scope

    @Test("admin scope as a string or an array", arguments: [
        "presence:admin", "a presence:admin", "presence:admin b", "  read   presence:admin  ",
    ])
    func adminScopeString(scope: String) async throws {
        let token = try HandMadeJWT.hs256(payload: payload(extra: ["scope": scope]), secret: Self.secret)
        #expect(try await verifier().verify(token: token).isAdmin)
        let words = scope.split(separator: " ").map(String.init)
        let arrayToken = try HandMadeJWT.hs256(payload: payload(extra: ["scope": words]), secret: Self.secret)
        #expect(try await verifier().verify(token: arrayToken).isAdmin)
    }

    @Test("admin scope in scp (Azure AD, Okta) as a string or an array")
    func adminScopeInScp() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(extra: ["scp": "read presence:admin"]), secret: Self.secret)
        #expect(try await verifier().verify(token: token).isAdmin)
        let arrayToken = try HandMadeJWT.hs256(payload: payload(extra: ["scp": ["presence:admin"]]), secret: Self.secret)
        #expect(try await verifier().verify(token: arrayToken).isAdmin)
        let other = try HandMadeJWT.hs256(payload: payload(extra: ["scp": "presence:read"]), secret: Self.secret)
        #expect(try await verifier().verify(token: other).isAdmin == false)
    }

    @Test("other scopes are not admin", arguments: [
        "", "presence", "presence:admins", "presence:read", "PRESENCE:ADMIN", "xpresence:admin", "presence:admin:x",
    ])
    func nonAdminScopes(scope: String) async throws {
        let token = try HandMadeJWT.hs256(payload: payload(extra: ["scope": scope]), secret: Self.secret)
        #expect(try await verifier().verify(token: token).isAdmin == false)
        let arrayToken = try HandMadeJWT.hs256(payload: payload(extra: ["scope": [scope, "read"]]), secret: Self.secret)
        #expect(try await verifier().verify(token: arrayToken).isAdmin == false)
    }

    @Test func issuedAdminTokens() async throws {
        let issuer = await TokenIssuer(secret: Self.secret)
        let admin = try await issuer.token(subject: "ops", scopes: ["read", "presence:admin"], now: Self.now)
        #expect(
            try await verifier().verify(token: admin)
                == TokenVerifier.Identity(subject: "ops", isAdmin: true, scopes: ["read", "presence:admin"]),
            "the scopes are kept for the audit trail")
        let plain = try await issuer.token(subject: "ops", now: Self.now)
        #expect(try await verifier().verify(token: plain).isAdmin == false)
    }

    // MARK: secrets of any length

    @Test("short and long secrets sign like any other HMAC library", arguments: [
        "s", "short", "exactly-31-bytes-long-secret-xx", "exactly-32-bytes-long-secret-xxx",
        String(repeating: "k", count: 64), String(repeating: "long", count: 40),
    ])
    func secretsOfAnyLength(secret: String) async throws {
        let verifier = try await verifier(secret: secret)
        // Signed by hand with the raw secret bytes (what another library would do).
        let handMade = try HandMadeJWT.hs256(payload: payload(), secret: secret)
        #expect(try await verifier.verify(token: handMade).subject == "alice")
        // Signed by our issuer.
        let issued = try await TokenIssuer(secret: secret).token(subject: "alice", now: Self.now)
        #expect(try await verifier.verify(token: issued).subject == "alice")
        // And the issuer's token verifies by hand with the raw secret.
        let parts = issued.split(separator: ".").map(String.init)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        #expect(HandMadeJWT.base64URL(Data(mac)) == parts[2])
    }

    @Test func aShortSecretIsNotAPrefixMatch() async throws {
        let verifier = try await verifier(secret: "short")
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: "shor"))
        await expectRejected(verifier, try HandMadeJWT.hs256(payload: payload(), secret: "short1"))
    }

    // MARK: the Authorization header

    @Test("malformed Authorization headers", arguments: [
        "", " ", "Basic x", "Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer ", "Bearer    ", "garbage", "Bearer garbage",
        "Bearer a.b", "Bearer a.b.c", "Bearer ..", "Bearer ...", "Token abc.def.ghi", "Bearer\tx.y.z",
    ])
    func malformedHeaders(header: String) async throws {
        let verifier = try await verifier()
        do {
            let identity = try await verifier.verify(authorization: header)
            Issue.record("accepted \(header) as \(identity)")
        } catch {
            #expect(error.code == .unauthorized)
        }
    }

    @Test func missingHeaderIsUnauthorized() async throws {
        let verifier = try await verifier()
        do {
            _ = try await verifier.verify(authorization: nil)
            Issue.record("a missing header was accepted")
        } catch {
            #expect(error.code == .unauthorized)
        }
    }

    @Test func bearerSchemeIsCaseInsensitive() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(), secret: Self.secret)
        let verifier = try await verifier()
        for header in ["Bearer \(token)", "bearer \(token)", "BEARER \(token)", "Bearer \(token) ", "Bearer   \(token)"] {
            #expect(try await verifier.verify(authorization: header).subject == "alice", "\(header)")
        }
    }

    @Test func aValidTokenWithTrailingJunkIsRejected() async throws {
        let token = try HandMadeJWT.hs256(payload: payload(), secret: Self.secret)
        await expectRejected(try await verifier(), "\(token) extra")
        await expectRejected(try await verifier(), "\(token).extra")
        await expectRejected(try await verifier(), "x\(token)")
    }

    // MARK: configuration

    @Test func configurationWithoutAKeyFails() async {
        await #expect(throws: TokenVerifier.ConfigurationError.self) {
            _ = try await TokenVerifier(settings: .init())
        }
        await #expect(throws: TokenVerifier.ConfigurationError.self) {
            _ = try await TokenVerifier(settings: .init(secret: ""))
        }
        await #expect(throws: TokenVerifier.ConfigurationError.self) {
            _ = try await TokenVerifier(settings: .init(publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"))
        }
    }

    @Test func smallRSAKeysAreRefused() async throws {
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        await #expect(throws: TokenVerifier.ConfigurationError.self) {
            _ = try await TokenVerifier(settings: .init(publicKeyPEM: small.publicKey.pemRepresentation))
        }
    }

    @Test func headerParsing() throws {
        let token = try HandMadeJWT.hs256(payload: payload(), secret: Self.secret)
        #expect(TokenVerifier.header(of: token)?["alg"] == .string("HS256"))
        #expect(TokenVerifier.header(of: "") == nil)
        #expect(TokenVerifier.header(of: "a.b") == nil)
        #expect(TokenVerifier.header(of: "a.b.c.d") == nil)
        #expect(TokenVerifier.header(of: "!!!.b.c") == nil)
        #expect(TokenVerifier.header(of: "\(HandMadeJWT.base64URL(Data("[1]".utf8))).b.c") == nil)
        #expect(TokenVerifier.header(of: "\(try HandMadeJWT.segment(["alg": 1])).b.c")?["alg"] == .integer(1))
    }

    /// RFC 7515 §4.1.11: critical extensions this verifier does not understand (it understands
    /// none) make the token invalid, even when it is signed with the right key.
    @Test func aTokenWithCriticalHeaderExtensionsIsRefused() async throws {
        let verifier = try await verifier()
        for crit in [["exp"], ["b64"], ["http://example.com/ext"]] as [[String]] {
            let token = try HandMadeJWT.hs256(
                payload: payload(), secret: Self.secret, header: ["alg": "HS256", "typ": "JWT", "crit": crit, "b64": true])
            let error = await #expect(throws: PresenceError.self) { try await verifier.verify(token: token) }
            #expect(error?.code == .unauthorized)
            #expect(error?.message.contains("crit") == true)
        }
        let plain = try HandMadeJWT.hs256(payload: payload(), secret: Self.secret)
        #expect(try await verifier.verify(token: plain).subject == "alice")
    }
}

/// Reads a token's `alg` without the code under test.
enum JWTHeaderPeek {
    static func alg(of token: String) -> String? {
        guard let first = token.split(separator: ".").first else { return nil }
        var base64 = first.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}
