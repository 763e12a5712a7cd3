import Logging
import PresenceAuth
import PresenceHTTP
import ServiceLifecycle

/// How a node checks tokens and serves HTTPS: the JWT secret (or the development one), the
/// verifier and its key sources, the certificate, and what SIGHUP reloads.
extension PresenceNode {
    /// The verifier of client tokens and where its keys come from.
    struct Authentication: Sendable {
        let verifier: TokenVerifier
        let sources: TokenKeySources
        /// The keys read from the secret and the files at start.
        let fileMaterial: TokenKeySet.Material
    }

    /// The verifier of client tokens, with the keys of the secret and the files; the JWK Set
    /// URL's keys follow when ``TokenKeyReloader`` has fetched it (in the background: a
    /// provider that hangs cannot hold start-up).
    /// - Throws: ``ConfigurationError`` naming the key of an unusable source.
    static func makeAuthentication(_ configuration: NodeConfiguration, logger: Logger) async throws -> Authentication {
        let sources = try TokenKeySources(configuration)
        let fileMaterial = try sources.configuredFileMaterial()
        var settings = TokenVerifier.Settings(
            secret: fileMaterial.secret, publicKeyPEM: fileMaterial.publicKeyPEM, jwks: fileMaterial.jwks)
        settings.issuer = configuration.issuer
        settings.audience = configuration.audience
        settings.leewaySeconds = configuration.leewaySeconds
        settings.keysFollow = sources.jwksURL != nil
        let verifier: TokenVerifier
        do {
            verifier = try await TokenVerifier(settings: settings)
        } catch let error as TokenVerifier.ConfigurationError {
            throw ConfigurationError(error.description)
        }
        if let secret = configuration.jwtSecret, secret.utf8.count < 32 {
            logger.warning("the JWT secret is shorter than 32 bytes; RFC 7518 asks for at least 32 for HS256")
        }
        return Authentication(verifier: verifier, sources: sources, fileMaterial: fileMaterial)
    }

    /// The services that keep the keys current: the JWK Set URL's refresh and, with
    /// `reloadConfiguration`, SIGHUP (the keys and the HTTPS certificate read again).
    static func authenticationServices(
        _ authentication: Authentication, configuration: NodeConfiguration, tls: TLSCertificateStore?,
        reloadConfiguration: (@Sendable () throws -> NodeConfiguration)?, logger: Logger
    ) -> [any Service] {
        let keyReloader = TokenKeyReloader(
            keys: authentication.verifier.keys, sources: authentication.sources, fileMaterial: authentication.fileMaterial,
            interval: .milliseconds(Int64(configuration.jwksRefresh * 1000)), logger: logger)
        guard let reloadConfiguration else { return [keyReloader] }
        let hangup = HangupReloader(logger: logger) {
            [developmentSecret = configuration.jwtSecret, dev = configuration.developmentMode, started = configuration] in
            do {
                var reloaded = try reloadConfiguration()
                let needRestart = Self.authKeysNeedingRestart(from: started, to: reloaded)
                if !needRestart.isEmpty {
                    logger.warning(
                        "SIGHUP reloads keys only: these changes take a restart",
                        metadata: ["keys": "\(needRestart.joined(separator: ","))"])
                }
                // The generated development secret is not in any file the reload reads.
                if dev, reloaded.jwtSecret == nil { reloaded.jwtSecret = developmentSecret }
                await keyReloader.reload(try TokenKeySources(reloaded))
                Self.reloadCertificate(tls, from: reloaded, logger: logger)
            } catch {
                logger.error("SIGHUP: cannot read the configuration again; nothing changed", metadata: ["error": "\(error)"])
            }
        }
        return [keyReloader, hangup]
    }

    /// Fills in the JWT secret: configured, or in `--dev` mode the stored or a new dev secret.
    /// - Throws: ``ConfigurationError`` naming `JWT_SECRET` and `auth.jwt_secret` when there is none.
    static func resolveSecret(_ configuration: inout NodeConfiguration, logger: Logger) throws {
        guard configuration.jwtSecret == nil, configuration.publicKeyFile == nil, configuration.jwksFile == nil,
            configuration.jwksURL == nil
        else { return }
        guard configuration.developmentMode else {
            throw ConfigurationError(
                "no JWT secret configured: set the JWT_SECRET environment variable or auth.jwt_secret in the config file (or auth.public_key_file), or start with --dev for a generated development secret"
            )
        }
        configuration.jwtSecret = try DevelopmentSecret.readOrCreate(dataDirectory: configuration.dataDirectory)
        logger.warning(
            "development mode: using a generated JWT secret; do not use in production",
            metadata: ["secret_file": "\(DevelopmentSecret.path(dataDirectory: configuration.dataDirectory))"])
    }

    /// The HTTPS certificate, when `service.http.tls` is set. - Throws: ``ConfigurationError`` for unusable files.
    static func makeCertificateStore(_ configuration: NodeConfiguration) throws -> TLSCertificateStore? {
        guard let certificate = configuration.httpTLSCertFile, let key = configuration.httpTLSKeyFile else { return nil }
        do {
            return try TLSCertificateStore(certificateFile: certificate, keyFile: key)
        } catch {
            throw ConfigurationError("invalid value for 'service.http.tls': \(error.description)")
        }
    }

    /// SIGHUP: the HTTPS certificate and key read again (a failure keeps the ones in use).
    static func reloadCertificate(_ tls: TLSCertificateStore?, from configuration: NodeConfiguration, logger: Logger) {
        guard let certificate = configuration.httpTLSCertFile, let key = configuration.httpTLSKeyFile else {
            if tls != nil { logger.warning("SIGHUP: HTTPS stays on until a restart (service.http.tls is no longer set)") }
            return
        }
        guard let tls else {
            logger.warning("SIGHUP: HTTPS starts with a restart (service.http.tls was not set at start)")
            return
        }
        do {
            try tls.reload(certificateFile: certificate, keyFile: key)
            logger.info("HTTPS certificate reloaded", metadata: ["cert_file": "\(certificate)"])
        } catch {
            logger.error("cannot reload the HTTPS certificate; keeping the one in use", metadata: ["error": "\(error.description)"])
        }
    }

    /// The authentication keys whose change SIGHUP does not apply.
    static func authKeysNeedingRestart(from old: NodeConfiguration, to new: NodeConfiguration) -> [String] {
        var keys: [String] = []
        if old.issuer != new.issuer { keys.append("auth.issuer") }
        if old.audience != new.audience { keys.append("auth.audience") }
        if old.leewaySeconds != new.leewaySeconds { keys.append("auth.leeway") }
        if old.jwksRefresh != new.jwksRefresh { keys.append("auth.jwks_refresh") }
        if old.publicReads != new.publicReads { keys.append("auth.public_reads") }
        return keys
    }
}
