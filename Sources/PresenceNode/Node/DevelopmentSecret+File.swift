import EmbeddedNATS
import PresenceAuth

extension DevelopmentSecret {
    /// The stored secret, or a new random one written with mode 0600.
    /// - Throws: ``ConfigurationError`` when it cannot be written.
    public static func readOrCreate(dataDirectory: String) throws -> String {
        if let secret = read(dataDirectory: dataDirectory) { return secret }
        let secret = generate()
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
