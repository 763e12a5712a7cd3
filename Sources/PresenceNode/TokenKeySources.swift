import Foundation
import PresenceHTTP

/// Where a node's token keys come from (SPEC §4): the secret, a PEM file, a JWK Set file and a
/// JWK Set URL. Read at start and again on SIGHUP (``TokenKeyReloader``).
struct TokenKeySources: Sendable, Equatable {
    var secret: String?
    var publicKeyFile: String?
    var jwksFile: String?
    var jwksURL: URL?

    /// The sources `configuration` names. - Throws: ``ConfigurationError`` for a URL that is not http(s).
    init(_ configuration: NodeConfiguration) throws(ConfigurationError) {
        secret = configuration.jwtSecret
        publicKeyFile = configuration.publicKeyFile.flatMap { $0.isEmpty ? nil : $0 }
        jwksFile = configuration.jwksFile.flatMap { $0.isEmpty ? nil : $0 }
        if let text = configuration.jwksURL, !text.isEmpty {
            guard let url = URL(string: text), let host = url.host, !host.isEmpty,
                ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            else { throw ConfigurationError("invalid value for 'auth.jwks_url': \(text) is not an http(s) URL") }
            // Whoever can change the set can sign any token: plain http only on this machine.
            guard url.scheme?.lowercased() == "https" || ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else {
                throw ConfigurationError("invalid value for 'auth.jwks_url': it must be https (plain http only on loopback)")
            }
            jwksURL = url
        }
    }

    /// Whether a token can be verified without the URL's keys.
    var hasKeysBesideTheURL: Bool {
        !(secret ?? "").isEmpty || publicKeyFile != nil || jwksFile != nil
    }

    /// The key material of the secret and the files, read now (the URL's document is added
    /// with ``PresenceHTTP/TokenKeySet/Material/adding(jwks:)``).
    /// - Throws: ``ConfigurationError`` naming the key of a file that cannot be read.
    func fileMaterial() throws(ConfigurationError) -> TokenKeySet.Material {
        var material = TokenKeySet.Material(secret: secret)
        if let publicKeyFile {
            material.publicKeyPEM = try Self.read(publicKeyFile, key: "auth.public_key_file")
        }
        if let jwksFile {
            material.jwks.append(try Self.read(jwksFile, key: "auth.jwks_file"))
        }
        return material
    }

    /// `url` without user, password and query, for logs.
    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(url)" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "(url)"
    }

    private static func read(_ path: String, key: String) throws(ConfigurationError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("invalid value for '\(key)': cannot read \(path)")
        }
        return text
    }
}
