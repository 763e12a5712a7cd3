import PresenceAuth

extension TokenKeySources {
    /// The sources `configuration` names.
    /// - Throws: ``ConfigurationError`` for a URL that is not http(s).
    init(_ configuration: NodeConfiguration) throws(ConfigurationError) {
        do {
            self = try TokenKeySources(
                secret: configuration.jwtSecret, publicKeyFile: configuration.publicKeyFile,
                jwksFile: configuration.jwksFile, jwksURL: configuration.jwksURL)
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// ``fileMaterial()`` at start: a file that cannot be read is a ``ConfigurationError``,
    /// which stops start-up with its message.
    func configuredFileMaterial() throws(ConfigurationError) -> TokenKeySet.Material {
        do {
            return try fileMaterial()
        } catch {
            throw ConfigurationError(error.description)
        }
    }
}
