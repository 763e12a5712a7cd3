import Foundation
import Testing

@testable import PresenceNode

/// The TLS files that go into nats-server's configuration are checked first, naming our key
/// (issue 28), instead of nats-server's `nats-server.conf:26:3: error parsing X509 certificate/key pair`.
@Suite(.serialized, .temporaryFiles)
struct NATSTLSFileTests {
    /// A CA, and two certificates it signed: `center` and `other`.
    private static func files() throws -> String {
        let directory = TemporaryDirectory.make()
        try HTTPSCertificates.makeAuthority(in: directory)
        try HTTPSCertificates.makeServerCertificate("center", in: directory)
        try HTTPSCertificates.makeServerCertificate("other", in: directory)
        try "not a certificate\n".write(toFile: directory + "/garbage.pem", atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n".write(
            toFile: directory + "/broken.pem", atomically: true, encoding: .utf8)
        return directory
    }

    private func problem(_ configuration: NodeConfiguration) -> String {
        do {
            try configuration.checkNATSTLSFiles()
            return "no error"
        } catch {
            return error.description
        }
    }

    private func leaf(cert: String?, key: String?, ca: String? = nil) -> NodeConfiguration {
        var configuration = NodeConfiguration()
        configuration.role = .leaf
        configuration.leafTLSCertFile = cert
        configuration.leafTLSKeyFile = key
        configuration.leafTLSCAFile = ca
        return configuration
    }

    @Test func eachBadFileIsNamedByItsKey() throws {
        let d = try Self.files()
        let cases: [(NodeConfiguration, String)] = [
            (leaf(cert: d + "/missing.pem", key: d + "/center.key"),
                "invalid value for 'nats.leaf_tls.cert_file': \(d)/missing.pem: no such file"),
            (leaf(cert: d, key: d + "/center.key"), "invalid value for 'nats.leaf_tls.cert_file': \(d): is a directory"),
            (leaf(cert: d + "/center.key", key: d + "/center.pem"),
                "invalid value for 'nats.leaf_tls.cert_file': \(d)/center.key: holds a private key, not a certificate (no -----BEGIN CERTIFICATE----- block)"),
            (leaf(cert: d + "/center.pem", key: d + "/center.pem"),
                "invalid value for 'nats.leaf_tls.key_file': \(d)/center.pem: holds a certificate, not a private key (no -----BEGIN … PRIVATE KEY----- block)"),
            (leaf(cert: d + "/garbage.pem", key: d + "/center.key"),
                "invalid value for 'nats.leaf_tls.cert_file': \(d)/garbage.pem: is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)"),
            (leaf(cert: d + "/broken.pem", key: d + "/center.key"),
                "invalid value for 'nats.leaf_tls.cert_file': \(d)/broken.pem: its PEM certificate cannot be parsed"),
            (leaf(cert: d + "/center.pem", key: d + "/other.key"),
                "invalid value for 'nats.leaf_tls.key_file': \(d)/other.key is not the private key of 'nats.leaf_tls.cert_file' \(d)/center.pem"),
            (leaf(cert: d + "/center.pem", key: d + "/center.key", ca: d + "/ca.key"),
                "invalid value for 'nats.leaf_tls.ca_file': \(d)/ca.key: holds a private key, not a certificate (no -----BEGIN CERTIFICATE----- block)"),
            (leaf(cert: nil, key: nil, ca: d + "/nope.pem"), "invalid value for 'nats.leaf_tls.ca_file': \(d)/nope.pem: no such file"),
        ]
        for (configuration, expected) in cases {
            #expect(problem(configuration) == expected)
        }
    }

    @Test func goodFilesPassAndOnlyFilesNATSServerReadsAreChecked() throws {
        let d = try Self.files()
        #expect(problem(leaf(cert: d + "/center.pem", key: d + "/center.key", ca: d + "/ca.pem")) == "no error")
        #expect(problem(leaf(cert: nil, key: nil, ca: d + "/ca.pem")) == "no error")

        var center = NodeConfiguration()
        center.routeTLSCertFile = d + "/missing.pem"
        center.routeTLSKeyFile = d + "/center.key"
        #expect(problem(center) == "no error", "not clustered: no route TLS in nats-server.conf")
        center.clusterPort = 6222
        #expect(problem(center) == "invalid value for 'nats.route_tls.cert_file': \(d)/missing.pem: no such file")
        center.natsEmbedded = false
        #expect(problem(center) == "no error", "no embedded nats-server")
    }
}
