import Foundation

/// Where a node's token keys come from (SPEC §4): the secret, a PEM file, a JWK Set file and a
/// JWK Set URL. Read at start and again on SIGHUP (``TokenKeyReloader``).
public struct TokenKeySources: Sendable, Equatable {
    /// The HS256 secret (`auth.jwt_secret`), if any.
    public var secret: String?
    /// The PEM file of public keys (`auth.public_key_file`), if any.
    public var publicKeyFile: String?
    /// The JWK Set file (`auth.jwks_file`), if any.
    public var jwksFile: String?
    /// The JWK Set URL (`auth.jwks_url`), if any.
    public var jwksURL: URL?

    /// Why sources are unusable; the message names the configuration key.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        /// What is wrong, naming the key.
        public let description: String

        init(_ description: String) { self.description = description }
    }

    /// The sources of the configured values (an empty file path or URL is none).
    /// - Throws: ``Invalid`` for a URL that is not http(s), or plain http off loopback.
    public init(secret: String?, publicKeyFile: String?, jwksFile: String?, jwksURL text: String?) throws(Invalid) {
        self.secret = secret
        self.publicKeyFile = publicKeyFile.flatMap { $0.isEmpty ? nil : $0 }
        self.jwksFile = jwksFile.flatMap { $0.isEmpty ? nil : $0 }
        if let text, !text.isEmpty {
            guard let url = URL(string: text), let host = url.host, !host.isEmpty,
                ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            else { throw Invalid("invalid value for 'auth.jwks_url': \(text) is not an http(s) URL") }
            // Whoever can change the set can sign any token: plain http only on this machine.
            guard url.scheme?.lowercased() == "https" || ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else {
                throw Invalid("invalid value for 'auth.jwks_url': it must be https (plain http only on loopback)")
            }
            jwksURL = url
        }
    }

    /// The key material of the secret and the files, read now (the URL's document is added
    /// with ``TokenKeySet/Material/adding(jwks:)``).
    /// - Throws: ``Invalid`` naming the key of a file that cannot be read.
    public func fileMaterial() throws(Invalid) -> TokenKeySet.Material {
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

    private static func read(_ path: String, key: String) throws(Invalid) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Invalid("invalid value for '\(key)': cannot read \(path)")
        }
        return text
    }
}
