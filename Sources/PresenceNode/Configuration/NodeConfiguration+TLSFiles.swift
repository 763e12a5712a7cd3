import Foundation
import NIOSSL

extension NodeConfiguration {
    /// The TLS files that go into nats-server's configuration (`nats.leaf_tls.*`, and on a
    /// clustered center `nats.route_tls.*`), checked before nats-server starts: each one
    /// exists, is readable and holds what its key says (a PEM certificate, a PEM private key),
    /// and the key belongs to the certificate. nats-server would otherwise stop with
    /// `nats-server.conf:26:3: error parsing X509 certificate/key pair`, naming its own file.
    /// Blocking (reads the files): call it once at start.
    /// - Throws: ``ConfigurationError`` naming the key and the file.
    func checkNATSTLSFiles() throws(ConfigurationError) {
        guard natsEmbedded else { return }
        if leafTLSCertFile != nil || leafTLSCAFile != nil {
            try TLSFiles(prefix: "nats.leaf_tls", cert: leafTLSCertFile, key: leafTLSKeyFile, ca: leafTLSCAFile).check()
        }
        if isClusteredCenter, routeTLSCertFile != nil {
            try TLSFiles(prefix: "nats.route_tls", cert: routeTLSCertFile, key: routeTLSKeyFile, ca: routeTLSCAFile).check()
        }
    }
}

/// One group of TLS keys (`<prefix>.cert_file`, `key_file`, `ca_file`) and the checks of its files.
private struct TLSFiles {
    let prefix: String
    let cert: String?
    let key: String?
    let ca: String?

    func check() throws(ConfigurationError) {
        var chain: [NIOSSLCertificate] = []
        if let cert {
            chain = try certificates(at: cert, key: "cert_file")
        }
        if let ca {
            _ = try certificates(at: ca, key: "ca_file")
        }
        if let key {
            let privateKey = try privateKey(at: key)
            try checkMatch(chain, privateKey)
        }
    }

    private func certificates(at path: String, key: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
        let text = try read(path, key: key)
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            let what = text.contains("PRIVATE KEY-----") ? "holds a private key, not a certificate" : "is not a PEM certificate"
            throw problem(key, path, "\(what) (no -----BEGIN CERTIFICATE----- block)")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
            guard !chain.isEmpty else { throw problem(key, path, "holds no certificate") }
            return chain
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw problem(key, path, "its PEM certificate cannot be parsed")
        }
    }

    private func privateKey(at path: String) throws(ConfigurationError) -> NIOSSLPrivateKey {
        let text = try read(path, key: "key_file")
        guard text.contains("PRIVATE KEY-----") else {
            let what = text.contains("-----BEGIN CERTIFICATE-----") ? "holds a certificate, not a private key" : "is not a PEM private key"
            throw problem("key_file", path, "\(what) (no -----BEGIN … PRIVATE KEY----- block)")
        }
        if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            throw problem("key_file", path, "is encrypted; nats-server needs an unencrypted key")
        }
        do {
            return try NIOSSLPrivateKey(bytes: Array(text.utf8), format: .pem)
        } catch {
            throw problem("key_file", path, "its PEM private key cannot be parsed")
        }
    }

    /// The key must be the one of the chain's first certificate (a TLS context is built
    /// with both, as nats-server does: BoringSSL compares them).
    private func checkMatch(_ chain: [NIOSSLCertificate], _ key: NIOSSLPrivateKey) throws(ConfigurationError) {
        guard !chain.isEmpty, let cert else { return }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                "invalid value for '\(prefix).key_file': \(self.key ?? "") is not the private key of '\(prefix).cert_file' \(cert)")
        }
    }

    /// The file's text. - Throws: when it does not exist or cannot be read.
    private func read(_ path: String, key: String) throws(ConfigurationError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw problem(key, path, "no such file")
        }
        guard !isDirectory.boolValue else { throw problem(key, path, "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw problem(key, path, "cannot be read by this process (permission denied?)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func problem(_ key: String, _ path: String, _ reason: String) -> ConfigurationError {
        ConfigurationError("invalid value for '\(prefix).\(key)': \(path): \(reason)")
    }
}
