import Foundation
import Testing

@testable import PresenceAuth

/// Where token keys come from: which JWK Set URLs are taken, the files read at start and on
/// SIGHUP, and the `--dev` secret's file.
@Suite("TokenKeySources")
struct TokenKeySourcesTests {
    /// A fresh directory, removed when `body` ends.
    func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("presence-auth-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    @Test func emptyPathsAndURLsAreNone() throws {
        let sources = try TokenKeySources(secret: "s", publicKeyFile: "", jwksFile: "", jwksURL: "")
        #expect(sources == (try TokenKeySources(secret: "s", publicKeyFile: nil, jwksFile: nil, jwksURL: nil)))
        #expect(sources.publicKeyFile == nil && sources.jwksFile == nil && sources.jwksURL == nil)
        #expect(try sources.fileMaterial() == TokenKeySet.Material(secret: "s"))
    }

    @Test(arguments: [
        "https://idp.example.com/.well-known/jwks.json", "http://127.0.0.1:8080/jwks.json", "http://localhost/jwks.json",
        "http://[::1]:9000/jwks.json", "HTTPS://IDP.EXAMPLE.COM/jwks",
    ])
    func httpsURLsAndPlainHTTPOnLoopbackAreTaken(url: String) throws {
        let sources = try TokenKeySources(secret: nil, publicKeyFile: nil, jwksFile: nil, jwksURL: url)
        #expect(sources.jwksURL?.absoluteString == url)
    }

    @Test(arguments: [
        ("ftp://idp.example.com/jwks.json", "is not an http(s) URL"), ("not a url", "is not an http(s) URL"),
        ("https:///jwks.json", "is not an http(s) URL"), ("http://idp.example.com/jwks.json", "must be https"),
        ("http://10.0.0.1/jwks.json", "must be https"),
    ])
    func otherURLsAreRefusedNamingTheKey(url: String, why: String) {
        #expect {
            _ = try TokenKeySources(secret: nil, publicKeyFile: nil, jwksFile: nil, jwksURL: url)
        } throws: { error in
            let description = (error as? TokenKeySources.Invalid)?.description ?? ""
            return description.hasPrefix("invalid value for 'auth.jwks_url'") && description.contains(why)
        }
    }

    @Test func theFilesAreReadWhenAskedAndAnUnreadableOneIsNamed() throws {
        try withDirectory { directory in
            let pem = directory + "/keys.pem"
            let jwks = directory + "/jwks.json"
            try "PEM TEXT".write(toFile: pem, atomically: true, encoding: .utf8)
            try #"{"keys":[]}"#.write(toFile: jwks, atomically: true, encoding: .utf8)
            let sources = try TokenKeySources(secret: nil, publicKeyFile: pem, jwksFile: jwks, jwksURL: nil)
            #expect(try sources.fileMaterial() == TokenKeySet.Material(publicKeyPEM: "PEM TEXT", jwks: [#"{"keys":[]}"#]))
            try #"{"keys":[{}]}"#.write(toFile: jwks, atomically: true, encoding: .utf8)
            #expect(try sources.fileMaterial().jwks == [#"{"keys":[{}]}"#], "read again each time")

            let unreadable = [
                (try TokenKeySources(secret: nil, publicKeyFile: pem + ".gone", jwksFile: jwks, jwksURL: nil), "auth.public_key_file"),
                (try TokenKeySources(secret: nil, publicKeyFile: nil, jwksFile: directory, jwksURL: nil), "auth.jwks_file"),
            ]
            for (sources, key) in unreadable {
                do throws(TokenKeySources.Invalid) {
                    let material = try sources.fileMaterial()
                    Issue.record("read \(material) for \(key)")
                } catch {
                    #expect(error.description.hasPrefix("invalid value for '\(key)': cannot read "), "\(error)")
                }
            }
        }
    }

    @Test func aURLIsLoggedWithoutItsCredentialsAndQuery() throws {
        let url = try #require(URL(string: "https://client:s3cret@idp.example.com:8443/keys/jwks.json?token=abc#x"))
        let shown = TokenKeySources.redacted(url)
        #expect(!shown.contains("s3cret") && !shown.contains("client") && !shown.contains("abc"))
        #expect(shown.hasPrefix("https://idp.example.com:8443/keys/jwks.json"))
    }

    // MARK: the development secret

    @Test func theDevelopmentSecretIsReadTrimmedFromItsFile() throws {
        try withDirectory { directory in
            let path = DevelopmentSecret.path(dataDirectory: directory)
            #expect(path == directory + "/dev-jwt-secret")
            #expect(DevelopmentSecret.read(dataDirectory: directory) == nil, "no file yet")
            try " \n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(DevelopmentSecret.read(dataDirectory: directory) == nil, "an empty file holds none")
            try "abc123\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(DevelopmentSecret.read(dataDirectory: directory) == "abc123")
        }
    }

    @Test func aGeneratedSecretIs32RandomBytesInHex() {
        let first = DevelopmentSecret.generate()
        #expect(first.count == 64)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(DevelopmentSecret.generate() != first)
    }
}
