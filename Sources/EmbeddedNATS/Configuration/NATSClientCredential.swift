#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// The user and password the embedded nats-server requires on its client port (SPEC §5):
/// without them any local process (another user of the host, a sidecar) could purge the
/// bucket. Generated at a node's first start and kept in `<nats.data_dir>/nats-client.url`,
/// mode 0600, as one line `nats://USER:PASSWORD@127.0.0.1:PORT`, the URL operators give the
/// `nats` CLI; the file is rewritten when the port changes and reused across restarts.
public struct NATSClientCredential: Sendable, Equatable {
    /// The user name.
    public var user: String
    /// The password.
    public var password: String

    /// A credential with these values.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The file that holds the URL with the credential for a data directory.
    public static func path(dataDirectory: String) -> String { dataDirectory + "/nats-client.url" }

    /// A new random credential: a user `presence-<8 hex digits>` and a 256-bit password in hex
    /// (so neither needs escaping in a URL).
    public static func generate() -> NATSClientCredential {
        var generator = SystemRandomNumberGenerator()
        let hex = { (count: Int) in
            (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        }
        return NATSClientCredential(user: "presence-" + hex(4), password: hex(32))
    }

    /// The URL of the client port `port` on loopback with this credential.
    public func url(port: Int) -> String {
        "nats://\(Self.escape(user)):\(Self.escape(password))@127.0.0.1:\(port)"
    }

    /// The stored URL of a data directory's embedded server, nil when there is none (or it is
    /// unreadable). Blocking.
    public static func storedURL(dataDirectory: String) -> String? {
        guard let text = try? String(contentsOfFile: path(dataDirectory: dataDirectory), encoding: .utf8) else { return nil }
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return url.isEmpty ? nil : url
    }

    /// The credential stored in a data directory, nil when there is none or it cannot be parsed. Blocking.
    public static func stored(dataDirectory: String) -> NATSClientCredential? {
        guard let url = storedURL(dataDirectory: dataDirectory) else { return nil }
        return parse(url)
    }

    /// The user and password of a `nats://USER:PASSWORD@host:port` URL.
    static func parse(_ url: String) -> NATSClientCredential? {
        guard let components = URLComponents(string: url), let user = components.user, let password = components.password,
            !user.isEmpty, !password.isEmpty
        else { return nil }
        return NATSClientCredential(user: user, password: password)
    }

    /// Writes the URL of port `port`, mode 0600 (also when the line is unchanged: a file an
    /// earlier version or an operator left looser is replaced). Blocking.
    func store(port: Int, dataDirectory: String) throws(PrivateFiles.Error) {
        try PrivateFiles.write(url(port: port) + "\n", to: Self.path(dataDirectory: dataDirectory))
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
