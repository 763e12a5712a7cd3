import Configuration
import Foundation
import Logging

extension NodeConfiguration {
    /// Loads the configuration with the priority flags > environment > file > defaults.
    ///
    /// - Parameters:
    ///   - file: the YAML file (`--config`), if any.
    ///   - environment: the process environment: `PRESENCE_<KEY>` for every key (dots as
    ///     underscores) and `JWT_SECRET` for `auth.jwt_secret`.
    ///   - flags: values from command-line flags, by dotted key.
    /// - Throws: ``ConfigurationError`` naming the key for an unknown key in the file or the
    ///   flags, or a bad value anywhere. A `PRESENCE_*` variable that names no key is not an
    ///   error (platforms inject their own, as Kubernetes does for a Service named
    ///   `presence`): it is listed in ``NodeConfiguration/ignoredEnvironmentVariables``.
    public static func load(
        file: String?, environment: [String: String], flags: [String: String]
    ) throws -> NodeConfiguration {
        var layers: [(name: String, values: [AbsoluteConfigKey: ConfigValue])] = []
        layers.append(("flags", try convert(flags, source: "command line")))

        var environmentValues: [String: String] = [:]
        let known = Dictionary(uniqueKeysWithValues: ConfigSchema.keys.keys.map { (ConfigSchema.environmentName(of: $0), $0) })
        var ignored: [String] = []
        for (name, value) in environment where name.hasPrefix("PRESENCE_") {
            guard let key = known[name] else {
                ignored.append(name)
                continue
            }
            environmentValues[key] = value
        }
        layers.append(("environment", try convert(environmentValues, source: "environment")))
        if let secret = environment["JWT_SECRET"], !secret.isEmpty {
            layers.append(("JWT_SECRET", try convert(["auth.jwt_secret": secret], source: "JWT_SECRET")))
        }
        if let file {
            let values = try ConfigFile.load(path: file, environment: environment)
            layers.append(("file", try convert(values, source: file)))
        }
        let reader = ConfigReader(providers: layers.map { InMemoryProvider(name: $0.name, values: $0.values) })
        var configuration = try NodeConfiguration(reader: reader)
        configuration.ignoredEnvironmentVariables = ignored.sorted()
        return configuration
    }

    private static func convert(_ values: [String: String], source: String) throws -> [AbsoluteConfigKey: ConfigValue] {
        var out: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, text) in values {
            out[ConfigSchema.absoluteKey(key)] = try ConfigSchema.convert(text, forKey: key, source: source)
        }
        return out
    }

    /// Reads every key of ``ConfigSchema`` from `reader`, keeping defaults for absent keys,
    /// and checks the values' ranges.
    init(reader: ConfigReader) throws {
        self.init()
        nodeID = reader.string(forKey: "service.node_id", default: nodeID)
        let roleText = reader.string(forKey: "service.role", default: role.rawValue)
        guard let role = Role(rawValue: roleText) else {
            throw ConfigurationError("invalid value for 'service.role': '\(roleText)' (expected center or leaf)")
        }
        self.role = role
        httpHost = reader.string(forKey: "service.http.host", default: httpHost)
        httpPort = try Self.port(reader, "service.http.port", default: httpPort, allowZero: true)
        httpHeaderTimeout = try Self.double(reader, "service.http.header_timeout", default: httpHeaderTimeout, in: 0.1...3600)
        httpIdleTimeout = try Self.double(reader, "service.http.idle_timeout", default: httpIdleTimeout, in: 0.1...86_400)

        natsEmbedded = reader.bool(forKey: "nats.embedded", default: natsEmbedded)
        natsServerBinary = reader.string(forKey: "nats.server_binary", default: natsServerBinary)
        dataDirectory = reader.string(forKey: "nats.data_dir", default: dataDirectory)
        natsClientPort = try Self.port(reader, "nats.client_port", default: natsClientPort, allowZero: true)
        natsLeafnodePort = try Self.port(reader, "nats.leafnode_port", default: natsLeafnodePort, allowZero: true)
        natsLeafnodeHost = reader.string(forKey: "nats.leafnode_host", default: natsLeafnodeHost)
        natsMonitorPort = try Self.port(reader, "nats.monitor_port", default: natsMonitorPort, allowZero: true)
        hubURLs = reader.stringArray(forKey: "nats.hub_urls", default: hubURLs)
        natsURL = reader.string(forKey: "nats.url", default: natsURL)
        replicas = try Self.int(reader, "nats.replicas", default: replicas, in: 1...5)
        natsUser = reader.string(forKey: "nats.user")
        natsPassword = reader.string(forKey: "nats.password", isSecret: true)
        natsToken = reader.string(forKey: "nats.token", isSecret: true)
        leafUser = reader.string(forKey: "nats.leaf_user").flatMap { $0.isEmpty ? nil : $0 }
        leafPassword = reader.string(forKey: "nats.leaf_password", isSecret: true)
        leafTLSCertFile = reader.string(forKey: "nats.leaf_tls.cert_file").flatMap { $0.isEmpty ? nil : $0 }
        leafTLSKeyFile = reader.string(forKey: "nats.leaf_tls.key_file").flatMap { $0.isEmpty ? nil : $0 }
        leafTLSCAFile = reader.string(forKey: "nats.leaf_tls.ca_file").flatMap { $0.isEmpty ? nil : $0 }
        if (leafTLSCertFile == nil) != (leafTLSKeyFile == nil) {
            throw ConfigurationError("'nats.leaf_tls.cert_file' and 'nats.leaf_tls.key_file' must be set together")
        }
        if role == .center, leafTLSCAFile != nil, leafTLSCertFile == nil {
            throw ConfigurationError("'nats.leaf_tls.cert_file' and 'key_file' are required on a center that uses leaf TLS")
        }

        cacheMaxCost = try Self.int(reader, "cache.max_cost", default: cacheMaxCost, in: 1_048_576...Int.max)
        cacheNumCounters = try Self.int(reader, "cache.num_counters", default: cacheNumCounters, in: 1...Int.max)
        cacheNegativeTTL = try Self.int(reader, "cache.negative_ttl", default: cacheNegativeTTL, in: 0...86_400)
        defaultTTL = try Self.int(reader, "presence.default_ttl", default: defaultTTL, in: 10...86_400)
        retention = try Self.int(reader, "presence.retention", default: retention, in: 60...Int(Int32.max))
        sweepInterval = try Self.double(reader, "presence.sweep_interval", default: sweepInterval, in: 0.01...3600)
        sweepBatch = try Self.int(reader, "presence.sweep_batch", default: sweepBatch, in: 1...1_000_000)
        maxStreams = try Self.int(reader, "stream.max_streams", default: maxStreams, in: 0...1_000_000)
        streamQueueSize = try Self.int(reader, "stream.queue_size", default: streamQueueSize, in: 1...1_000_000)
        streamKeepalive = try Self.double(reader, "stream.keepalive", default: streamKeepalive, in: 0.01...3600)
        streamMaxBufferedBytes = try Self.int(
            reader, "stream.max_buffered_bytes", default: streamMaxBufferedBytes, in: 16_384...(1 << 40))
        streamMaxTotalBufferedBytes = try Self.int(
            reader, "stream.max_total_buffered_bytes", default: streamMaxTotalBufferedBytes, in: 16_384...(1 << 50))
        if streamMaxTotalBufferedBytes < streamMaxBufferedBytes {
            throw ConfigurationError(
                "invalid value for 'stream.max_total_buffered_bytes': \(streamMaxTotalBufferedBytes) is below 'stream.max_buffered_bytes' (\(streamMaxBufferedBytes))"
            )
        }

        jwtSecret = reader.string(forKey: "auth.jwt_secret", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        publicKeyFile = reader.string(forKey: "auth.public_key_file").flatMap { $0.isEmpty ? nil : $0 }
        issuer = reader.string(forKey: "auth.issuer", default: issuer)
        audience = reader.string(forKey: "auth.audience", default: audience)
        publicReads = reader.bool(forKey: "auth.public_reads", default: publicReads)
        leewaySeconds = try Self.int(reader, "auth.leeway", default: leewaySeconds, in: 0...3600)

        writesPerSecond = try Self.double(reader, "rate_limit.writes_per_second", default: writesPerSecond)
        writeBurst = try Self.int(reader, "rate_limit.write_burst", default: writeBurst, in: 1...1_000_000)
        readsPerSecond = try Self.double(reader, "rate_limit.reads_per_second", default: readsPerSecond)
        readBurst = try Self.int(reader, "rate_limit.read_burst", default: readBurst, in: 1...1_000_000)

        let level = reader.string(forKey: "log_level", default: "info")
        switch level.lowercased() {
        case "debug": logLevel = .debug
        case "info": logLevel = .info
        case "warn", "warning": logLevel = .warning
        case "error": logLevel = .error
        case "trace": logLevel = .trace
        default: throw ConfigurationError("invalid value for 'log_level': '\(level)' (expected debug, info, warn or error)")
        }
        let format = reader.string(forKey: "log_format", default: "logfmt")
        guard let logFormat = StructuredLogHandler.Format(rawValue: format.lowercased()) else {
            throw ConfigurationError("invalid value for 'log_format': '\(format)' (expected logfmt or json)")
        }
        self.logFormat = logFormat
        if role == .center && natsEmbedded && !Self.isLoopback(natsLeafnodeHost) && leafUser == nil {
            throw ConfigurationError(
                "'nats.leafnode_host' is \(natsLeafnodeHost), but leaves do not authenticate: anyone reaching that address could write presence through NATS without a JWT. Set 'nats.leaf_user' and 'nats.leaf_password' (the leaf credential, which limits leaves to the presence records; add 'nats.leaf_tls' across networks), or keep 'nats.leafnode_host' on loopback"
            )
        }
        if role == .leaf && natsEmbedded && hubURLs.isEmpty {
            throw ConfigurationError("'nats.hub_urls' must list the center's leafnode URL(s) when 'service.role' is leaf")
        }
    }

    /// Whether a listen address is on loopback only.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    private static func int(_ reader: ConfigReader, _ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        let result = reader.int(forKey: ConfigKey(key.split(separator: ".").map(String.init)), default: value)
        guard range.contains(result) else {
            throw ConfigurationError("invalid value for '\(key)': \(result) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return result
    }

    private static func port(_ reader: ConfigReader, _ key: String, default value: Int, allowZero: Bool = false) throws -> Int {
        try int(reader, key, default: value, in: (allowZero ? 0 : 1)...65_535)
    }

    private static func double(
        _ reader: ConfigReader, _ key: String, default value: Double, in range: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude
    ) throws -> Double {
        let result = reader.double(forKey: ConfigKey(key.split(separator: ".").map(String.init)), default: value)
        guard result >= 0 else { throw ConfigurationError("invalid value for '\(key)': must not be negative") }
        guard range.contains(result) else {
            throw ConfigurationError("invalid value for '\(key)': \(result) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return result
    }
}
