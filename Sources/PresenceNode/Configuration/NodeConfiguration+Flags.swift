extension NodeConfiguration {
    /// The `presence serve` options that set a configuration key, from ``ConfigurationKeys``:
    /// option name without `--` → key path (`http-port` → `service.http.port`).
    public static let flagKeys: [String: String] = Dictionary(
        uniqueKeysWithValues: ConfigurationKeys.all.compactMap { key in key.flag.map { ($0, key.path) } })

    /// The help of such an option: what the key does, its path and its default.
    /// - Returns: an empty text for an option that sets no key (a test checks every option).
    public static func flagHelp(_ flag: String) -> String {
        guard let path = flagKeys[flag], let key = ConfigurationKeys.byPath[path] else { return "" }
        return "\(key.doc) (\(key.path); default \(key.defaultText))"
    }

    /// Command-line values by option name turned into values by key path, as ``load(file:environment:flags:)`` takes them.
    /// - Throws: ``ConfigurationError`` for an option that sets no key.
    public static func flagValues(byOption values: [String: String]) throws -> [String: String] {
        var byKey: [String: String] = [:]
        for (flag, value) in values {
            guard let path = flagKeys[flag] else { throw ConfigurationError("--\(flag) sets no configuration key") }
            byKey[path] = value
        }
        return byKey
    }
}
