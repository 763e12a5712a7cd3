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

        /// Material of an optional secret, PEM text and JWK Set documents.
        public init(secret: String? = nil, publicKeyPEM: String? = nil, jwks: [String] = []) {
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.jwks = jwks
        }

        /// This material with one more JWK Set document, if any (a URL's last fetch).
        public func adding(jwks document: String?) -> Material {
            var material = self
            if let document { material.jwks.append(document) }
            return material
        }
    }

    /// Why material makes no usable key set.
    public struct MaterialError: Error, CustomStringConvertible {
        /// What is unusable, naming its configuration key.
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
    /// JWKs by `kid` (a set may give one `kid` to keys of different types).
    var named: [String: [Key]] = [:]
    /// JWKs left out: for encryption, of a type or algorithm not verified here, or unusable.
    public private(set) var skippedKeys = 0

    /// How many keys there are (a JWK without `alg` counts once per algorithm it may verify).
    public var count: Int { (hmac == nil ? 0 : 1) + unnamed.count + named.values.reduce(0) { $0 + $1.count } }

    /// Builds the set. - Throws: ``MaterialError`` naming what is unusable, or when there is no key.
    /// - Parameter allowingNone: no key is not an error (a JWK Set URL's keys come later).
    public init(_ material: Material, allowingNone: Bool = false) async throws {
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
            guard let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
                let entries = object["keys"] as? [Any]
            else {
                throw MaterialError(description: "the JWK Set is not valid JSON of the form {\"keys\": [...]}")
            }
            for entry in entries {
                if let found = await Self.signingKeys(entry, unnamedIndex: unnamed.count) {
                    if let kid = found.kid { named[kid, default: []] += found.keys } else { unnamed += found.keys }
                } else {
                    skippedKeys += 1
                }
            }
        }
        guard count > 0 || allowingNone else {
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
        /// An HS256 token names a `kid`: a `kid` selects a JWK, and HS256 is only ever the
        /// secret, which has none.
        case kidWithSecret
    }

    func candidates(algorithm: String, kid: String?) -> Candidates {
        if algorithm == "HS256" {
            guard let hmac else { return .algorithmNotAccepted }
            return kid == nil ? .keys([hmac]) : .kidWithSecret
        }
        if let kid, let keys = named[kid] {
            let fitting = keys.filter { $0.algorithms.contains(algorithm) }
            return fitting.isEmpty ? .algorithmNotAccepted : .keys(fitting)
        }
        let fitting = unnamed.filter { $0.algorithms.contains(algorithm) }
        if !fitting.isEmpty { return .keys(fitting) }
        if kid != nil, !named.isEmpty { return .unknownKey }
        return named.values.joined().contains { $0.algorithms.contains(algorithm) } ? .unknownKey : .algorithmNotAccepted
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

    /// The verification keys of one JWK Set entry with its `kid`, nil when it is not a
    /// signing key this verifier can use. jwt-kit fixes a key's algorithm when its signer is
    /// made, so a key without `alg` becomes one key per algorithm its type allows (an EC
    /// key's curve allows one), each fixed: the first token cannot choose for the others.
    private static func signingKeys(_ entry: Any, unnamedIndex: Int) async -> (kid: String?, keys: [Key])? {
        guard var fields = entry as? [String: Any], let type = fields["kty"] as? String,
            let allowed = algorithmsByKeyType[type]
        else { return nil }
        if let use = fields["use"] as? String, use != "sig" { return nil }
        let algorithms: [String]
        if let named = fields["alg"] as? String {
            algorithms = allowed.contains(named) ? [named] : []
        } else {
            switch (type, fields["crv"] as? String) {
            case ("RSA", _): algorithms = allowed.sorted()
            case ("EC", "P-256"?): algorithms = ["ES256"]
            case ("EC", "P-384"?): algorithms = ["ES384"]
            case ("EC", "P-521"?): algorithms = ["ES512"]
            case ("OKP", "Ed25519"?): algorithms = ["EdDSA"]
            default: algorithms = []
            }
        }
        let kid = fields["kid"] as? String
        if kid == nil { fields["kid"] = "unnamed-\(unnamedIndex)" }
        var keys: [Key] = []
        for algorithm in algorithms {
            fields["alg"] = algorithm
            guard let data = try? JSONSerialization.data(withJSONObject: fields),
                let jwk = try? JSONDecoder().decode(JWK.self, from: data),
                let collection = try? await JWTKeyCollection().add(jwk: jwk)
            else { return nil }
            keys.append(Key(algorithms: [algorithm], collection: collection))
        }
        return keys.isEmpty ? nil : (kid, keys)
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
