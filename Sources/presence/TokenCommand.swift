import ArgumentParser
import Foundation
import PresenceAuth
import PresenceCore
import PresenceNode

/// `presence token`: prints a signed JWT for the configured secret, on one line.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a signed JWT for the configured secret (JWT_SECRET, auth.jwt_secret, or the --dev secret).")

    @Option(help: "The user the token speaks for (the sub claim).") var sub: String
    @Option(help: "Scopes, space-separated (e.g. presence:admin).") var scope: String?
    @Option(help: "Lifetime in seconds.") var ttl: Int = 3600
    @Option(help: "YAML configuration file.") var config: String?
    @Option(name: .customLong("data-dir"), help: "Data directory holding a --dev secret.") var dataDir: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["nats.data_dir"] = dataDir
        // Only the secret and the data directory matter here: the environment of a clustered
        // center (PRESENCE_NATS_REPLICAS=3 without its cluster flags) must not stop it.
        let configuration = try CommandSupport.loadConfiguration(file: config, flags: flags, checkingKeysTogether: false)
        guard ttl > 0 else { CommandSupport.fail("--ttl must be a positive number of seconds") }
        let scopes = scope.map { $0.split(separator: " ").map(String.init) } ?? []
        if !scopes.contains(PresenceClaims.adminScope), (try? UserID(validating: sub)) == nil {
            CommandSupport.fail(
                "--sub '\(sub)' is not a valid user id, so the token could write nothing (use --scope presence:admin for an admin token)"
            )
        }
        guard let secret = configuration.jwtSecret ?? DevelopmentSecret.read(dataDirectory: configuration.dataDirectory)
        else {
            CommandSupport.fail(
                "no secret to sign with: set JWT_SECRET or auth.jwt_secret, or pass the --data-dir (or --config) of a node started with --dev"
            )
        }
        let issuer = await TokenIssuer(secret: secret)
        let token = try await issuer.token(
            subject: sub, scopes: scopes, lifetime: ttl,
            issuer: configuration.issuer.isEmpty ? nil : configuration.issuer,
            audience: configuration.audience.isEmpty ? nil : configuration.audience)
        print(token)
    }
}
