import EmbeddedNATS
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

    /// The stored secret, or a new random one written with mode 0600.
    public static func readOrCreate(dataDirectory: String) throws -> String {
        if let secret = read(dataDirectory: dataDirectory) { return secret }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let file = path(dataDirectory: dataDirectory)
        do {
            try PrivateFiles.makeDirectory(dataDirectory)
            try PrivateFiles.write(secret + "\n", to: file)
        } catch {
            throw ConfigurationError("cannot write the development secret to \(file): \(error.description)")
        }
        return secret
    }
}
