import NIOConcurrencyHelpers
import NIOSSL

/// The HTTPS certificate and key (`service.http.tls`), replaceable while the server runs
/// (SIGHUP): each connection takes the context in use when it opens, open ones keep theirs.
///
/// HummingbirdTLS's `TLSChannel` fixes its context when the server starts; this is the same
/// `NIOSSLServerHandler` with a context chosen per connection, so that a renewed certificate
/// (Let's Encrypt, cert-manager) needs no restart.
public final class TLSCertificateStore: Sendable {
    /// Why the files make no TLS context.
    public struct FilesError: Error, CustomStringConvertible {
        public let description: String
    }

    private let context: NIOLockedValueBox<NIOSSLContext>

    /// Reads the PEM certificate chain and private key. - Throws: ``FilesError`` saying which file is unusable.
    public init(certificateFile: String, keyFile: String) throws(FilesError) {
        context = NIOLockedValueBox(try Self.context(certificateFile: certificateFile, keyFile: keyFile))
    }

    /// The context new connections use.
    var current: NIOSSLContext { context.withLockedValue { $0 } }

    /// Reads the files again and uses them for new connections. - Throws: ``FilesError``; the context in use stays.
    public func reload(certificateFile: String, keyFile: String) throws(FilesError) {
        let fresh = try Self.context(certificateFile: certificateFile, keyFile: keyFile)
        context.withLockedValue { $0 = fresh }
    }

    private static func context(certificateFile: String, keyFile: String) throws(FilesError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw FilesError(description: "service.http.tls.cert_file \(certificateFile) is not a readable PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else {
            throw FilesError(description: "service.http.tls.cert_file \(certificateFile) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw FilesError(description: "service.http.tls.key_file \(keyFile) is not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A closing connection waits this long for the client's close_notify (NIOSSL: 5 s),
        // no longer than a plain one lingers.
        configuration.shutdownTimeout = .seconds(1)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw FilesError(
                description: "service.http.tls.cert_file and key_file do not make a TLS context (does the key match the certificate?): \(error)")
        }
    }
}
