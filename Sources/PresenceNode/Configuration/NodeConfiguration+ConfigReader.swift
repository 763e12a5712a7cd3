import Configuration
import Foundation

extension NodeConfiguration {
    /// Loads the configuration with the priority flags > environment > file > defaults.
    ///
    /// The layers are swift-configuration providers read through one `ConfigReader`:
    /// an `InMemoryProvider` of the flags, an `EnvironmentVariablesProvider` under the
    /// `presence` prefix, an `InMemoryProvider` of `JWT_SECRET`, and an `InMemoryProvider` of
    /// the file (``ConfigFile``: `${VAR}` expansion and the unknown-key check). Every key and its
    /// default is in ``ConfigurationKeys``.
    ///
    /// - Parameters:
    ///   - file: the YAML file (`--config`), if any.
    ///   - environment: the process environment: `PRESENCE_<KEY>` for every key (dots as
    ///     underscores) and `JWT_SECRET` for `auth.jwt_secret`.
    ///   - flags: values from command-line flags, by dotted key (lists comma-separated).
    /// - Throws: ``ConfigurationError`` naming the key for an unknown key in the file or the
    ///   flags, or a bad value anywhere. A `PRESENCE_*` variable that names no key is not an
    ///   error (platforms inject their own, as Kubernetes does for a Service named
    ///   `presence`): it is listed in ``NodeConfiguration/ignoredEnvironmentVariables``.
    /// - Parameter checkingKeysTogether: false for a command that reads only a few keys
    ///   (`presence token` needs the secret): a rule between keys it does not use must not stop it.
    public static func load(
        file: String?, environment: [String: String], flags: [String: String], checkingKeysTogether: Bool = true
    ) throws -> NodeConfiguration {
        var layers: [(name: String, provider: any ConfigProvider)] = []
        layers.append(("command line", InMemoryProvider(name: "command line", values: try flagValues(flags))))
        let secretNames = ConfigurationKeys.all.filter(\.isSecret).map { ConfigurationKeys.environmentName(of: $0.path) }
        let variables = EnvironmentVariablesProvider(
            environmentVariables: environment, secretsSpecifier: .specific(Set(secretNames)))
        layers.append(("environment", variables.prefixKeys(with: "presence")))
        if let secret = environment["JWT_SECRET"], !secret.isEmpty {
            let value = ConfigValue(.string(secret), isSecret: true)
            let values = [ConfigurationKeys.jwtSecret.configKey: value]
            layers.append(("JWT_SECRET", InMemoryProvider(name: "JWT_SECRET", values: values)))
        }
        if let file {
            let values = try ConfigFile.load(path: file, environment: environment)
            layers.append((file, InMemoryProvider(name: file, values: values)))
        }
        let reader = ConfigReader(providers: layers.map(\.provider))
        var configuration = try NodeConfiguration(reader: reader, checkingKeysTogether: checkingKeysTogether) { key in
            guard let layer = layers.first(where: { holds($0.provider, key) }) else { return "default" }
            guard layer.name == "environment" else { return layer.name }
            let variable = ConfigurationKeys.environmentName(of: key.components.joined(separator: "."))
            return KubernetesServiceLink.describe(variable: variable, value: environment[variable])
        }
        let known = Set(ConfigurationKeys.all.map { ConfigurationKeys.environmentName(of: $0.path) })
        configuration.ignoredEnvironmentVariables = environment.keys
            .filter { $0.hasPrefix("PRESENCE_") && !known.contains($0) }.sorted()
        return configuration
    }

    /// Whether `provider` has a value for `key` (the first layer that has one is the one whose
    /// value a message is about).
    private static func holds(_ provider: any ConfigProvider, _ key: AbsoluteConfigKey) -> Bool {
        [ConfigType.string, .stringArray].contains { type in
            (try? provider.value(forKey: key, type: type).value) != nil
        }
    }

    /// The flags as provider values; lists are comma-separated.
    /// - Throws: ``ConfigurationError`` for a key that is not in ``ConfigurationKeys``.
    private static func flagValues(_ flags: [String: String]) throws -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (path, text) in flags {
            guard let key = ConfigurationKeys.byPath[path] else {
                throw ConfigurationError("unknown configuration key '\(path)' (command line)")
            }
            let content: ConfigContent = key.isList ? .stringArray(text.split(separator: ",").map(String.init)) : .string(text)
            values[AbsoluteConfigKey(path.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: key.isSecret)
        }
        return values
    }

    /// Reads every key of ``ConfigurationKeys`` from `reader` (its default when absent), then
    /// checks what involves several keys.
    /// - Parameter source: names the layer that holds a key, for messages.
    init(
        reader: ConfigReader, checkingKeysTogether: Bool = true,
        source: (AbsoluteConfigKey) -> String = { _ in "configuration" }
    ) throws {
        self.init()
        for key in ConfigurationKeys.all {
            try key.read(from: reader, into: &self, source: source)
        }
        if checkingKeysTogether { try checkKeysTogether() }
    }
}
