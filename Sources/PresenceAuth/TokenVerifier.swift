import Foundation
import JWTKit
import PresenceCore

/// Verifies bearer tokens (SPEC §4): HS256 with a shared secret, RS256/ES256 with PEM public
/// keys, and the keys of JWK Sets chosen by the token's `kid` (``TokenKeySet``). `alg: none`
/// and any algorithm that no configured key uses are refused before the signature is looked
/// at, which also rules out algorithm confusion. The keys can be replaced while it runs
/// (``keys``).
public struct TokenVerifier: Sendable {
    /// What a valid token proves.
    public struct Identity: Sendable, Equatable {
        /// The `sub` claim.
        public var subject: String
        /// Whether the token has the `presence:admin` scope.
        public var isAdmin: Bool
        /// The `iss` claim, if any (for the audit trail).
        public var issuer: String?
        /// The scopes of `scope` and `scp` (for the audit trail).
        public var scopes: [String]

        /// What a token of `subject` proves, with or without the admin scope.
        public init(subject: String, isAdmin: Bool, issuer: String? = nil, scopes: [String] = []) {
            self.subject = subject
            self.isAdmin = isAdmin
            self.issuer = issuer
            self.scopes = scopes
        }
    }

    /// The verification settings.
    public struct Settings: Sendable {
        /// HS256 secret, if any.
        public var secret: String?
        /// PEM text of one or more RSA or EC (P-256) public keys, if any.
        public var publicKeyPEM: String?
        /// JWK Set documents, if any.
        public var jwks: [String] = []
        /// Required `iss`, when not empty.
        public var issuer: String = ""
        /// Required `aud` member, when not empty.
        public var audience: String = ""
        /// Clock leeway for `exp` and `nbf`, in seconds.
        public var leewaySeconds: Int = 5
        /// Keys also come from a source loaded later (a JWK Set URL): having no key yet is
        /// not an error (see ``TokenKeys/missing``).
        public var keysFollow = false

        /// Settings with an optional secret and public key.
        public init(secret: String? = nil, publicKeyPEM: String? = nil, jwks: [String] = []) {
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.jwks = jwks
        }

        /// The key material of these settings.
        public var material: TokenKeySet.Material {
            TokenKeySet.Material(secret: secret, publicKeyPEM: publicKeyPEM, jwks: jwks)
        }
    }

    /// Why a verifier could not be built.
    public struct ConfigurationError: Error, CustomStringConvertible {
        /// What is unusable, naming its configuration key.
        public let description: String
    }

    private let settings: Settings
    /// The keys in use; replace them to rotate keys without a restart.
    public let keys: TokenKeys
    private let clock: @Sendable () -> Date
    let verified: VerifiedTokenCache

    /// Builds a verifier. - Throws: ``ConfigurationError`` when no key is set or one is unusable.
    /// - Parameter cacheCapacity: how many verified tokens are remembered (0: none), so a
    ///   client that sends the same token again pays only the time checks.
    public init(settings: Settings, cacheCapacity: Int = 10_000, clock: @escaping @Sendable () -> Date = { Date() })
        async throws
    {
        do {
            keys = TokenKeys(try await TokenKeySet(settings.material, allowingNone: settings.keysFollow))
        } catch let error as TokenKeySet.MaterialError {
            throw ConfigurationError(description: error.description)
        }
        self.settings = settings
        self.clock = clock
        self.verified = VerifiedTokenCache(capacity: cacheCapacity)
    }

    /// Verifies an `Authorization` header value.
    /// - Throws: ``PresenceError`` `unauthorized` for anything but a valid bearer token.
    public func verify(authorization header: String?) async throws(PresenceError) -> Identity {
        guard let header else { throw PresenceError(.unauthorized, "a bearer token is required") }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw PresenceError(.unauthorized, "the Authorization header must be: Bearer <token>", tokenError: "invalid_request")
        }
        return try await verify(token: String(HeaderValue.trimmed(parts[1])))
    }

    /// Verifies a compact JWT. A token verified before is taken from the cache, where only
    /// its time window (`exp`, `nbf`) is checked again: everything else about it is fixed.
    public func verify(token: String) async throws(PresenceError) -> Identity {
        try await verifyExpiring(token: token).identity
    }

    /// Verifies a compact JWT like ``verify(token:)``, and says until when it is valid (its
    /// `exp`): a connected socket lives with its token.
    public func verifyExpiring(token: String) async throws(PresenceError) -> (identity: Identity, expires: Date) {
        // A compact JWT is ASCII. Checked first because Strings compare by canonical
        // equivalence: a look-alike non-ASCII text must not match a cached token.
        guard token.utf8.allSatisfy({ $0 < 0x80 }) else { throw Self.unauthorized("the token is malformed") }
        var (keySet, generation) = keys.current
        if let known = verified.lookup(token), known.keyGeneration == generation {
            try checkTimeWindow(expires: known.expires, notBefore: known.notBefore)
            return (known.identity, known.expires)
        }
        guard let header = Self.header(of: token), case .string(let algorithm)? = header["alg"] else {
            throw Self.unauthorized("the token is malformed")
        }
        // RFC 7515 §4.1.11: a token that names critical extensions must be refused by a
        // verifier that does not understand them, and this one understands none.
        guard header["crit"] == nil else {
            throw Self.unauthorized("the token requires header extensions (crit) that are not supported")
        }
        // Said before the signature is checked: naming a missing claim gives nothing away.
        if let payload = Self.payload(of: token) {
            for claim in ["sub", "exp"] where payload[claim] == nil || payload[claim] == .null {
                throw Self.unauthorized("the token has no \(claim) claim, which is required")
            }
        }
        var kid: String?
        if let named = header["kid"] {
            guard case .string(let text) = named else { throw Self.unauthorized("the token's kid is not a string") }
            kid = text
        }
        var candidates = keySet.candidates(algorithm: algorithm, kid: kid)
        // An unknown kid, or any key while a source's keys are missing: the fetch in flight
        // (or one started now, as often as the refresher allows) may bring it.
        if Self.mayFollow(candidates, missing: keys.missing != nil),
            await keys.refreshForUnknownKey(seenGeneration: generation)
        {
            (keySet, generation) = keys.current
            candidates = keySet.candidates(algorithm: algorithm, kid: kid)
        }
        if keys.missing != nil, Self.mayFollow(candidates, missing: true) {
            throw PresenceError(
                .unavailable, "the identity provider's token keys are not loaded yet; retry later", retryAfter: 5)
        }
        let claims: PresenceClaims
        switch candidates {
        case .kidWithSecret:
            throw Self.unauthorized(
                "the token names a kid, which selects a JWK Set key, but HS256 is verified only with the shared secret, which has none")
        case .algorithmNotAccepted:
            throw Self.unauthorized("the token's algorithm is not accepted")
        case .unknownKey:
            guard let kid else { throw Self.unauthorized("the token has no kid header, which chooses among the JWK Set's keys") }
            throw Self.unauthorized("the token's key (kid \"\(kid)\") is not known")
        case .keys(let candidates):
            claims = try await Self.verify(token, withAnyOf: candidates)
        }
        try checkTimeWindow(expires: claims.exp.value, notBefore: claims.nbf?.value)
        if !settings.issuer.isEmpty, claims.iss?.value != settings.issuer {
            throw Self.unauthorized("the token's issuer is not accepted")
        }
        if !settings.audience.isEmpty, !(claims.aud?.value.contains(settings.audience) ?? false) {
            throw Self.unauthorized("the token's audience is not accepted")
        }
        guard !claims.sub.value.isEmpty else { throw Self.unauthorized("the token has no subject") }
        let identity = Identity(
            subject: claims.sub.value, isAdmin: claims.isAdmin, issuer: claims.iss?.value,
            scopes: (claims.scope?.values ?? []) + (claims.scp?.values ?? []))
        verified.insert(
            token,
            .init(identity: identity, expires: claims.exp.value, notBefore: claims.nbf?.value, keyGeneration: generation))
        return (identity, claims.exp.value)
    }

    /// Whether keys still to come may verify a token that has `candidates` now.
    private static func mayFollow(_ candidates: TokenKeySet.Candidates, missing: Bool) -> Bool {
        switch candidates {
        case .unknownKey: true
        case .algorithmNotAccepted: missing
        case .keys, .kidWithSecret: false
        }
    }

    /// The claims of `token` verified with the first of `candidates` whose signature matches.
    private static func verify(_ token: String, withAnyOf candidates: [TokenKeySet.Key]) async throws(PresenceError)
        -> PresenceClaims
    {
        for key in candidates {
            if let claims = try? await key.collection.verify(token, as: PresenceClaims.self) { return claims }
        }
        throw unauthorized("the token is invalid or badly signed")
    }

    private func checkTimeWindow(expires: Date, notBefore: Date?) throws(PresenceError) {
        let now = clock()
        let leeway = TimeInterval(settings.leewaySeconds)
        guard expires.addingTimeInterval(leeway) > now else {
            throw Self.unauthorized("the token has expired")
        }
        if let notBefore, notBefore > now.addingTimeInterval(leeway) {
            throw Self.unauthorized("the token is not valid yet")
        }
    }

    /// The header of a compact JWT, nil when it is not a three-part JWT whose header is a
    /// JSON object.
    static func header(of token: String) -> [String: JSONValue]? {
        let segments = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, let header = Base64URL.decode(segments[0]) else { return nil }
        return JSONValue.object(from: header)
    }

    /// The payload of a compact JWT, nil when it is not a JSON object.
    static func payload(of token: String) -> [String: JSONValue]? {
        let segments = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, let payload = Base64URL.decode(segments[1]) else { return nil }
        return JSONValue.object(from: payload)
    }

    /// A token that came and did not verify: `invalid_token` in the challenge (RFC 6750 §3.1).
    private static func unauthorized(_ message: String) -> PresenceError {
        PresenceError(.unauthorized, message, tokenError: "invalid_token")
    }
}

/// Base64url without padding, as JWT segments use it.
///
/// Hand-written: Foundation decodes only padded standard base64, and rewriting the text
/// into that form first cost more than the rest of reading the header.
enum Base64URL {
    /// The bytes `text` encodes, nil when it is not unpadded base64url.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xFF_FFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
