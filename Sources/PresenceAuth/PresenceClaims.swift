import JWTKit

/// The claims of a presence token.
///
/// `sub` and `exp` are required (decoding fails without them); `nbf`, `iss` and `aud` are
/// checked by ``TokenVerifier`` against its settings; `scope` (or `scp`, as Azure AD and Okta
/// send it) is a space-separated string or an array of strings.
public struct PresenceClaims: JWTPayload, Equatable {
    /// The user the token speaks for.
    public var sub: SubjectClaim
    /// Expiry.
    public var exp: ExpirationClaim
    /// Not valid before.
    public var nbf: NotBeforeClaim?
    /// Issued at.
    public var iat: IssuedAtClaim?
    /// Issuer.
    public var iss: IssuerClaim?
    /// Audience.
    public var aud: AudienceClaim?
    /// Granted scopes, e.g. `presence:admin`.
    public var scope: ScopeClaim?
    /// Granted scopes as Azure AD and Okta name the claim.
    public var scp: ScopeClaim?

    /// Creates claims.
    public init(
        sub: String, exp: ExpirationClaim, nbf: NotBeforeClaim? = nil, iat: IssuedAtClaim? = nil,
        iss: String? = nil, aud: [String]? = nil, scope: [String]? = nil
    ) {
        self.sub = SubjectClaim(value: sub)
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.iss = iss.map { IssuerClaim(value: $0) }
        self.aud = aud.map { AudienceClaim(value: $0) }
        self.scope = scope.map { ScopeClaim(values: $0) }
    }

    /// Time-based checks are done by ``TokenVerifier`` with its leeway and clock.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// Whether the token may write anyone's presence: `scope` or `scp` grants the admin scope.
    public var isAdmin: Bool {
        [scope, scp].contains { $0?.values.contains(PresenceClaims.adminScope) ?? false }
    }

    /// The scope that allows writing any user's presence.
    public static let adminScope = "presence:admin"
}

/// The `scope` claim: a space-separated string or an array of strings; encoded as a string.
/// Only the space (U+0020) separates scopes (RFC 6749 §3.3): `"a\tpresence:admin"` is one scope.
public struct ScopeClaim: Codable, Sendable, Equatable {
    /// The individual scopes.
    public var values: [String]

    /// Creates a scope claim.
    public init(values: [String]) { self.values = values }

    /// Decodes a space-separated string or an array of strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            values = text.split(separator: " ").map(String.init)
        } else {
            values = try container.decode([String].self)
        }
    }

    /// Encodes the scopes as one space-separated string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values.joined(separator: " "))
    }
}
