import Configuration

/// Every configuration key the service knows (SPEC §7), with its type. Keys not listed here
/// stop start-up, in the file, in `PRESENCE_*` variables and in flags alike.
enum ConfigSchema {
    enum ValueType: Sendable {
        case string, int, double, bool, stringArray
    }

    /// Key path → type.
    static let keys: [String: ValueType] = [
        "service.node_id": .string,
        "service.role": .string,
        "service.http.host": .string,
        "service.http.port": .int,
        "service.http.header_timeout": .double,
        "service.http.idle_timeout": .double,
        "nats.embedded": .bool,
        "nats.server_binary": .string,
        "nats.data_dir": .string,
        "nats.client_port": .int,
        "nats.leafnode_port": .int,
        "nats.leafnode_host": .string,
        "nats.monitor_port": .int,
        "nats.hub_urls": .stringArray,
        "nats.url": .string,
        "nats.replicas": .int,
        "nats.user": .string,
        "nats.password": .string,
        "nats.token": .string,
        "nats.leaf_user": .string,
        "nats.leaf_password": .string,
        "nats.leaf_tls.cert_file": .string,
        "nats.leaf_tls.key_file": .string,
        "nats.leaf_tls.ca_file": .string,
        "cache.max_cost": .int,
        "cache.num_counters": .int,
        "cache.negative_ttl": .int,
        "presence.default_ttl": .int,
        "presence.retention": .int,
        "presence.sweep_interval": .double,
        "presence.sweep_batch": .int,
        "stream.max_streams": .int,
        "stream.queue_size": .int,
        "stream.keepalive": .double,
        "stream.max_buffered_bytes": .int,
        "stream.max_total_buffered_bytes": .int,
        "auth.jwt_secret": .string,
        "auth.public_key_file": .string,
        "auth.issuer": .string,
        "auth.audience": .string,
        "auth.public_reads": .bool,
        "auth.leeway": .int,
        "rate_limit.writes_per_second": .double,
        "rate_limit.write_burst": .int,
        "rate_limit.reads_per_second": .double,
        "rate_limit.read_burst": .int,
        "log_level": .string,
        "log_format": .string,
    ]

    /// Keys whose values are secrets (never logged).
    static let secretKeys: Set<String> = ["auth.jwt_secret", "nats.password", "nats.token", "nats.leaf_password"]

    /// The environment variable of a key: `service.http.port` → `PRESENCE_SERVICE_HTTP_PORT`.
    static func environmentName(of key: String) -> String {
        "PRESENCE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Converts a textual value to the key's type.
    /// - Throws: ``ConfigurationError`` naming the key and the expected type.
    static func convert(_ text: String, forKey key: String, source: String) throws(ConfigurationError) -> ConfigValue {
        guard let type = keys[key] else {
            throw ConfigurationError("unknown configuration key '\(key)' (\(source))")
        }
        let content: ConfigContent
        switch type {
        case .string:
            content = .string(text)
        case .int:
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError("invalid value for '\(key)' (\(source)): '\(text)' is not an integer")
            }
            content = .int(value)
        case .double:
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw ConfigurationError("invalid value for '\(key)' (\(source)): '\(text)' is not a number")
            }
            content = .double(value)
        case .bool:
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "yes", "on", "1": content = .bool(true)
            case "false", "no", "off", "0": content = .bool(false)
            default: throw ConfigurationError("invalid value for '\(key)' (\(source)): '\(text)' is not true or false")
            }
        case .stringArray:
            content = .stringArray(
                text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        return ConfigValue(content, isSecret: secretKeys.contains(key))
    }

    /// A config key from a dotted path.
    static func absoluteKey(_ path: String) -> AbsoluteConfigKey {
        AbsoluteConfigKey(path.split(separator: ".").map(String.init))
    }
}

import Foundation
