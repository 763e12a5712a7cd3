import Crypto
import Foundation

/// Hand-made compact JWTs, independent of jwt-kit.
enum HandMadeJWT {
    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func segment(_ object: [String: Any]) throws -> String {
        base64URL(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// `header.payload` with the given JSON objects.
    static func signingInput(header: [String: Any], payload: [String: Any]) throws -> String {
        "\(try segment(header)).\(try segment(payload))"
    }

    /// A token HMAC-SHA256-signed with the raw bytes of `secret` (no padding, no hashing by us).
    static func hs256(
        payload: [String: Any], secret: some DataProtocol, header: [String: Any] = ["alg": "HS256", "typ": "JWT"]
    ) throws -> String {
        let input = try signingInput(header: header, payload: payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret)))
        return "\(input).\(base64URL(Data(mac)))"
    }

    static func hs256(
        payload: [String: Any], secret: String, header: [String: Any] = ["alg": "HS256", "typ": "JWT"]
    ) throws -> String {
        try hs256(payload: payload, secret: Data(secret.utf8), header: header)
    }

    /// An unsigned token (`alg: none`).
    static func unsecured(payload: [String: Any], alg: String = "none") throws -> String {
        "\(try signingInput(header: ["alg": alg, "typ": "JWT"], payload: payload))."
    }
}
