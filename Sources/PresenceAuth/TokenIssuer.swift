import Foundation
import JWTKit

/// Signs HS256 presence tokens (for `presence token` and tests).
public struct TokenIssuer: Sendable {
    private let keys: JWTKeyCollection

    /// An issuer for the shared secret.
    public init(secret: String) async {
        keys = await JWTKeyCollection().add(hmac: .presenceSecret(secret), digestAlgorithm: .sha256)
    }

    /// Signs a token for `subject` valid for `lifetime` seconds.
    public func token(
        subject: String, scopes: [String] = [], lifetime: Int = 3600, issuer: String? = nil, audience: String? = nil,
        now: Date = Date()
    ) async throws -> String {
        // Whole seconds: NumericDate may be fractional, but some JWT libraries reject that.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = PresenceClaims(
            sub: subject, exp: .init(value: now.addingTimeInterval(TimeInterval(lifetime))),
            iat: .init(value: now), iss: issuer, aud: audience.map { [$0] }, scope: scopes.isEmpty ? nil : scopes)
        return try await keys.sign(claims)
    }
}
