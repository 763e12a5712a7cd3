import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Why a JWK Set could not be fetched: one short line naming `auth.jwks_url`, its redacted URL
/// and what happened, in an operator's words (connection refused, a time-out, DNS, TLS), never
/// the dump of the error underneath.
struct JWKSFetchFailure: Error, Sendable, CustomStringConvertible {
    let url: String
    let reason: String

    init(url: String, _ reason: String) {
        self.url = url
        self.reason = reason
    }

    var description: String { "auth.jwks_url \(url): \(reason)" }

    /// A short reason for an AsyncHTTPClient, NIO or TLS error (`limit`: the fetch's bound).
    static func reason(for error: any Error, limit: Duration) -> String {
        switch error {
        case let client as HTTPClientError:
            switch client {
            case .connectTimeout: return "timeout: no connection within \(seconds(limit))"
            case .readTimeout, .deadlineExceeded: return "timeout: no complete answer within \(seconds(limit))"
            case .remoteConnectionClosed: return "the provider closed the connection"
            default: return "cannot fetch: " + oneLine("\(client)")
            }
        case let io as IOError:
            return String(cString: strerror(io.errnoCode)).lowercased()
        case let connection as NIOConnectionError:
            if let last = connection.connectionErrors.last { return reason(for: last.error, limit: limit) }
            return "DNS: cannot resolve \(connection.host)"
        case let unknown as SocketAddressError.UnknownHost:
            return "DNS: cannot resolve \(unknown.host)"
        case let tls as NIOSSLError:
            return "TLS: " + tlsReason(tls)
        case let extra as NIOSSLExtraError where extra == .failedToValidateHostname:
            return "TLS: the provider's certificate is not for this host name"
        case is NIOSSLExtraError, is BoringSSLError:
            return "TLS: the handshake failed"
        default:
            return "cannot fetch: " + oneLine("\(error)")
        }
    }

    private static func tlsReason(_ error: NIOSSLError) -> String {
        guard case .handshakeFailed(let inner) = error else { return "\(error)" }
        let text = "\(inner)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "the provider's certificate is not trusted" }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "the handshake failed: the port does not speak TLS (http instead of https?)"
        }
        return "the handshake failed"
    }

    /// At most 160 characters of the first line of `text`.
    private static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 160 ? String(line.prefix(159)) + "…" : line
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds) s" : "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}
