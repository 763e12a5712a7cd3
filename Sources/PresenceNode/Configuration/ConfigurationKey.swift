import Configuration

/// One configuration key, declared once in ``ConfigurationKeys``: where it lives in the file,
/// its default, what it allows, what it means, and the ``NodeConfiguration`` property it sets.
/// The environment variable, the flag, the documentation and the reading all come from here.
struct ConfigurationKey<Value: Sendable & Equatable>: Sendable {
    /// The dotted path (`service.http.port`).
    let path: String
    /// The value when no source sets the key.
    let defaultValue: Value
    /// How the value is written and checked.
    let format: ConfigValueFormat<Value>
    /// One line saying what the key does.
    let doc: String
    /// Never logged or shown.
    let isSecret: Bool
    /// The `presence serve` option that sets it (`http-port` for `--http-port`), if any.
    let flag: String?
    /// The default in words when it is not a fixed value (the host name).
    let defaultDoc: String?
    /// What the reference file writes instead of the default (`${JWT_SECRET}`).
    let example: String?
    /// The property of ``NodeConfiguration`` it sets.
    let property: any WritableKeyPath<NodeConfiguration, Value> & Sendable

    init(
        _ path: String, _ property: any WritableKeyPath<NodeConfiguration, Value> & Sendable, default defaultValue: Value,
        _ format: ConfigValueFormat<Value>, doc: String, secret: Bool = false, flag: String? = nil,
        defaultDoc: String? = nil, example: String? = nil
    ) {
        self.path = path
        self.property = property
        self.defaultValue = defaultValue
        self.format = format
        self.doc = doc
        self.isSecret = secret
        self.flag = flag
        self.defaultDoc = defaultDoc
        self.example = example
    }
}

/// A key of any type, for what treats all keys alike: reading, the environment names, the
/// unknown-key check, the documentation.
protocol AnyConfigurationKey: Sendable {
    var path: String { get }
    var doc: String { get }
    var isSecret: Bool { get }
    var flag: String? { get }
    /// Whether the key takes a list.
    var isList: Bool { get }
    /// The allowed values in words, if not any text.
    var allowed: String? { get }
    /// The default as YAML writes it, or in words (``ConfigurationKey/defaultDoc``).
    var defaultText: String { get }
    /// Whether ``defaultText`` is words rather than a value (the host name).
    var isDefaultInWords: Bool { get }
    /// What the reference file writes instead of the default, if anything.
    var example: String? { get }
    /// Reads the key from `reader` into `configuration` (the default when no source sets it).
    /// - Parameter source: names the source of the key's value, for the message.
    /// - Throws: ``ConfigurationError`` naming the key, the source and the reason.
    func read(
        from reader: ConfigReader, into configuration: inout NodeConfiguration, source: (AbsoluteConfigKey) -> String
    ) throws(ConfigurationError)
    /// Whether `configuration` holds this key's default.
    func isDefault(in configuration: NodeConfiguration) -> Bool
}

extension ConfigurationKey: AnyConfigurationKey {
    var isList: Bool { format.type == .stringArray }
    var allowed: String? { format.allowed }
    var defaultText: String { defaultDoc ?? format.encode(defaultValue) }
    var isDefaultInWords: Bool { defaultDoc != nil }

    /// The key as swift-configuration spells it.
    var configKey: AbsoluteConfigKey { AbsoluteConfigKey(path.split(separator: ".").map(String.init)) }

    func read(
        from reader: ConfigReader, into configuration: inout NodeConfiguration, source: (AbsoluteConfigKey) -> String
    ) throws(ConfigurationError) {
        // A non-throwing read returns nil for a value a provider cannot convert, but none can
        // fail here: every layer holds this key as `format.type` (text), and the environment
        // provider turns any variable into text or a comma list.
        let key = ConfigKey(configKey.components)
        let content: ConfigContent?
        if isList {
            content = reader.stringArray(forKey: key, isSecret: isSecret).map { .stringArray($0) }
        } else {
            content = reader.string(forKey: key, isSecret: isSecret).map { .string($0) }
        }
        guard let content else {
            configuration[keyPath: property] = defaultValue
            return
        }
        do {
            configuration[keyPath: property] = try format.decode(content)
        } catch {
            throw ConfigurationError("invalid value for '\(path)' (\(source(configKey))): \(error.reason)")
        }
    }

    func isDefault(in configuration: NodeConfiguration) -> Bool {
        configuration[keyPath: property] == defaultValue
    }
}
