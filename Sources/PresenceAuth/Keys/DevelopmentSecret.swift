import Foundation

/// The `--dev` secret: generated once, kept in `<data_dir>/dev-jwt-secret` (mode 0600),
/// reused on restart and found there by `presence token`.
public enum DevelopmentSecret {
    /// The file that holds the secret for a data dir.
    public static func path(dataDirectory: String) -> String {
        dataDirectory + "/dev-jwt-secret"
    }

    /// The stored secret, if there is one.
    public static func read(dataDirectory: String) -> String? {
        guard let text = try? String(contentsOfFile: path(dataDirectory: dataDirectory), encoding: .utf8) else {
            return nil
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return secret.isEmpty ? nil : secret
    }

    /// A new random secret (32 bytes in hex), which the node stores (PresenceNode's
    /// `readOrCreate(dataDirectory:)`, beside its other private files).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
