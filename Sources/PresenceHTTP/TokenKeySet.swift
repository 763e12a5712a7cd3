import Foundation
import JWTKit

/// The keys tokens may be signed with, from every configured source (SPEC §4): the HS256
/// secret, the public keys of a PEM file (one or several, as during a rotation), and the keys
/// of JWK Sets, which identity providers publish and choose between by `kid`.
///
/// Immutable: a reload (SIGHUP, a JWKS refresh) builds a new set (``TokenKeys``).
public struct TokenKeySet: Sendable {
    /// One verification key and the algorithms a token signed with it may name.
    struct Key: Sendable {
        var algorithms: Set<String>
        var collection: JWTKeyCollection
    }

    /// The key material, as read from configuration, files and URLs.
    public struct Material: Sendable, Equatable {
        /// HS256 secret, if any.
        public var secret: String?
        /// PEM text holding one or more RSA or EC (P-256) public keys, if any.
        public var publicKeyPEM: String?
        /// JWK Set documents (`{"keys": [...]}`).
        public var jwks: [String]

        public init(secret: String? = nil, publicKeyPEM: String? = nil, jwks: [String] = []) {
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.jwks = jwks
        }
    }

    /// Why material makes no usable key set.
    public struct MaterialError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The asymmetric algorithms a JWK of each key type may verify.
    static let algorithmsByKeyType: [String: Set<String>] = [
        "RSA": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        "EC": ["ES256", "ES384", "ES512"],
        "OKP": ["EdDSA"],
    ]

    var hmac: Key?
    /// Keys without a `kid`: PEM keys, and JWKs that have none. Tried in turn.
    var unnamed: [Key] = []
    /// JWKs by `kid`.
    var named: [String: Key] = [:]

    /// How many keys there are.
    public var count: Int { (hmac == nil ? 0 : 1) + unnamed.count + named.count }

    /// Builds the set. - Throws: ``MaterialError`` naming what is unusable, or when there is no key.
    public init(_ material: Material) async throws {
        if let secret = material.secret, !secret.isEmpty {
            hmac = Key(
                algorithms: ["HS256"],
                collection: await JWTKeyCollection().add(hmac: .presenceSecret(secret), digestAlgorithm: .sha256))
        }
        if let pem = material.publicKeyPEM {
            let blocks = Self.pemBlocks(pem)
            guard !blocks.isEmpty else {
                throw MaterialError(description: "auth.public_key_file holds no PEM public key")
            }
            for block in blocks { unnamed.append(try await Self.key(pem: block)) }
        }
        for document in material.jwks {
            let set: JWKS
            do {
                set = try JSONDecoder().decode(JWKS.self, from: Data(document.utf8))
            } catch {
                throw MaterialError(description: "the JWK Set is not valid JSON of the form {\"keys\": [...]}")
            }
            for jwk in set.keys {
                // A key for encryption, or of a kind jwt-kit cannot verify with, is not a signing key.
                guard let algorithms = Self.algorithmsByKeyType[jwk.keyType.rawValue] else { continue }
                let allowed = jwk.algorithm.map { algorithms.intersection([$0.rawValue]) } ?? algorithms
                guard !allowed.isEmpty else { continue }
                var named = jwk
                let kid = jwk.keyIdentifier?.string
                if kid == nil { named.keyIdentifier = JWKIdentifier(string: "unnamed-\(unnamed.count)") }
                let collection: JWTKeyCollection
                do {
                    collection = try await JWTKeyCollection().add(jwk: named)
                } catch {
                    throw MaterialError(description: "a key of the JWK Set is unusable (kid \(kid ?? "none")): \(error)")
                }
                let key = Key(algorithms: allowed, collection: collection)
                if let kid { self.named[kid] = key } else { unnamed.append(key) }
            }
        }
        guard count > 0 else {
            throw MaterialError(
                description:
                    "no JWT key: set JWT_SECRET or auth.jwt_secret, or auth.public_key_file, auth.jwks_file or auth.jwks_url")
        }
    }

    /// What verifying a token signed with `algorithm` (and naming `kid`) may use.
    enum Candidates {
        /// Try these keys in turn.
        case keys([Key])
        /// No configured key uses the algorithm.
        case algorithmNotAccepted
        /// The token names a key the sets do not have.
        case unknownKey
    }

    func candidates(algorithm: String, kid: String?) -> Candidates {
        if algorithm == "HS256" {
            return hmac.map { .keys([$0]) } ?? .algorithmNotAccepted
        }
        if let kid, let key = named[kid] {
            return key.algorithms.contains(algorithm) ? .keys([key]) : .algorithmNotAccepted
        }
        let fitting = unnamed.filter { $0.algorithms.contains(algorithm) }
        if !fitting.isEmpty { return .keys(fitting) }
        if kid != nil, !named.isEmpty { return .unknownKey }
        return named.values.contains { $0.algorithms.contains(algorithm) } ? .unknownKey : .algorithmNotAccepted
    }

    /// The PEM blocks of `text` (`-----BEGIN …-----` to `-----END …-----`).
    static func pemBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----BEGIN ") {
                current = [Substring(trimmed)]
            } else if trimmed.hasPrefix("-----END "), var lines = current {
                lines.append(Substring(trimmed))
                blocks.append(lines.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(Substring(trimmed))
            }
        }
        return blocks
    }

    private static func key(pem: String) async throws -> Key {
        if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            return Key(algorithms: ["RS256"], collection: await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: .sha256))
        }
        if let ec = try? ES256PublicKey(pem: pem) {
            return Key(algorithms: ["ES256"], collection: await JWTKeyCollection().add(ecdsa: ec))
        }
        throw MaterialError(
            description: "auth.public_key_file holds a key that is not a PEM RSA (2048 bits or more) or P-256 EC public key")
    }
}
