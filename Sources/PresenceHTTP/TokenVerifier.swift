import Foundation
import JWTKit
import PresenceCore

/// Verifies bearer tokens (SPEC §4): HS256 with a shared secret and/or RS256/ES256 with a
/// PEM public key; `alg: none` and any algorithm that no configured key uses are refused
/// before the signature is looked at, which also rules out algorithm confusion.
public struct TokenVerifier: Sendable {
    /// What a valid token proves.
    public struct Identity: Sendable, Equatable {
        /// The `sub` claim.
        public var subject: String
        /// Whether the token has the `presence:admin` scope.
        public var isAdmin: Bool
    }

    /// The verification settings.
    public struct Settings: Sendable {
        /// HS256 secret, if any.
        public var secret: String?
        /// PEM text of an RSA or EC (P-256) public key, if any.
        public var publicKeyPEM: String?
        /// Required `iss`, when not empty.
        public var issuer: String = ""
        /// Required `aud` member, when not empty.
        public var audience: String = ""
        /// Clock leeway for `exp` and `nbf`, in seconds.
        public var leewaySeconds: Int = 5

        /// Settings with an optional secret and public key.
        public init(secret: String? = nil, publicKeyPEM: String? = nil) {
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
        }
    }

    /// Why a verifier could not be built.
    public struct ConfigurationError: Error, CustomStringConvertible {
        public let description: String
    }

    private let settings: Settings
    private let keysByAlgorithm: [String: JWTKeyCollection]
    private let clock: @Sendable () -> Date

    /// Builds a verifier. - Throws: ``ConfigurationError`` when no key is set or the PEM is unusable.
    public init(settings: Settings, clock: @escaping @Sendable () -> Date = { Date() }) async throws {
        var keys: [String: JWTKeyCollection] = [:]
        if let secret = settings.secret, !secret.isEmpty {
            keys["HS256"] = await JWTKeyCollection().add(hmac: .presenceSecret(secret), digestAlgorithm: .sha256)
        }
        if let pem = settings.publicKeyPEM {
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                keys["RS256"] = await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: .sha256)
            } else if let ec = try? ES256PublicKey(pem: pem) {
                keys["ES256"] = await JWTKeyCollection().add(ecdsa: ec)
            } else {
                throw ConfigurationError(
                    description: "auth.public_key_file is not a PEM RSA (2048 bits or more) or P-256 EC public key")
            }
        }
        guard !keys.isEmpty else {
            throw ConfigurationError(description: "no JWT key: set JWT_SECRET or auth.jwt_secret (or auth.public_key_file)")
        }
        self.settings = settings
        self.keysByAlgorithm = keys
        self.clock = clock
    }

    /// Verifies an `Authorization` header value.
    /// - Throws: ``PresenceError`` `unauthorized` for anything but a valid bearer token.
    public func verify(authorization header: String?) async throws(PresenceError) -> Identity {
        guard let header else { throw Self.unauthorized("a bearer token is required") }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("the Authorization header must be: Bearer <token>")
        }
        return try await verify(token: String(parts[1]).trimmingCharacters(in: .whitespaces))
    }

    /// Verifies a compact JWT.
    public func verify(token: String) async throws(PresenceError) -> Identity {
        guard let algorithm = Self.headerAlgorithm(of: token) else {
            throw Self.unauthorized("the token is malformed")
        }
        guard let keys = keysByAlgorithm[algorithm] else {
            throw Self.unauthorized("the token's algorithm is not accepted")
        }
        let claims: PresenceClaims
        do {
            claims = try await keys.verify(token, as: PresenceClaims.self)
        } catch {
            throw Self.unauthorized("the token is invalid or badly signed")
        }
        let now = clock()
        let leeway = TimeInterval(settings.leewaySeconds)
        guard claims.exp.value.addingTimeInterval(leeway) > now else {
            throw Self.unauthorized("the token has expired")
        }
        if let nbf = claims.nbf, nbf.value > now.addingTimeInterval(leeway) {
            throw Self.unauthorized("the token is not valid yet")
        }
        if !settings.issuer.isEmpty, claims.iss?.value != settings.issuer {
            throw Self.unauthorized("the token's issuer is not accepted")
        }
        if !settings.audience.isEmpty, !(claims.aud?.value.contains(settings.audience) ?? false) {
            throw Self.unauthorized("the token's audience is not accepted")
        }
        guard !claims.sub.value.isEmpty else { throw Self.unauthorized("the token has no subject") }
        return Identity(subject: claims.sub.value, isAdmin: claims.isAdmin)
    }

    /// The `alg` of a compact JWT's header, nil when it is not a three-part JWT.
    static func headerAlgorithm(of token: String) -> String? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let header = Base64URL.decode(segments[0]),
            let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any],
            let algorithm = object["alg"] as? String
        else { return nil }
        return algorithm
    }

    private static func unauthorized(_ message: String) -> PresenceError {
        PresenceError(.unauthorized, message)
    }
}

/// Base64url without padding, as JWT segments use it.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}
