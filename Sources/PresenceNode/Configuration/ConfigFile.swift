import Configuration
import Foundation
import Yams

/// The YAML configuration file as provider values: `${VAR}` expanded from the environment,
/// every key checked against ``ConfigurationKeys`` (swift-configuration's `YAMLSnapshot` has
/// neither: it reads the file as it is, reads `key:` and `key: ~` as text, and cannot list
/// its keys). Values stay text; ``ConfigValueFormat`` converts them as it does for the
/// environment and flags.
enum ConfigFile {
    /// Reads and checks the file at `path`.
    static func load(path: String, environment: [String: String]) throws -> [AbsoluteConfigKey: ConfigValue] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the configuration file \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), environment: environment, source: path)
    }

    /// Parses YAML text into provider values by key; a null value (`key:`, `key: ~`) is no value.
    static func parse(
        _ text: String, environment: [String: String], source: String
    ) throws -> [AbsoluteConfigKey: ConfigValue] {
        let expanded = try expand(text, environment: environment, source: source)
        let node: Node?
        do {
            node = try Yams.compose(yaml: expanded)
        } catch {
            throw ConfigurationError("the configuration file \(source) is not valid YAML: \(error)")
        }
        guard let node else { return [:] }
        guard case .mapping = node else {
            throw ConfigurationError("the configuration file \(source) must be a mapping of keys")
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        try collect(node, prefix: [], into: &values, source: source)
        return values
    }

    private static func collect(
        _ node: Node, prefix: [String], into values: inout [AbsoluteConfigKey: ConfigValue], source: String
    ) throws {
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError("unexpected value at '\(prefix.joined(separator: "."))' in \(source)")
        }
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw ConfigurationError("a key in \(source) is not a string")
            }
            let components = prefix + [name]
            let path = components.joined(separator: ".")
            if case .mapping = valueNode {
                try collect(valueNode, prefix: components, into: &values, source: source)
                continue
            }
            guard let key = ConfigurationKeys.byPath[path] else {
                throw ConfigurationError("unknown configuration key '\(path)' in \(source)")
            }
            let content: ConfigContent
            switch valueNode {
            case .scalar(let scalar):
                if NSNull.construct(from: scalar) != nil { continue }  // `key:`, `~`, `null`: not set
                content = key.isList ? .stringArray(scalar.string.split(separator: ",").map(String.init)) : .string(scalar.string)
            case .sequence(let sequence):
                guard key.isList else {
                    throw ConfigurationError("invalid value for '\(path)' (\(source)): a list is not allowed here")
                }
                content = .stringArray(
                    try sequence.map { item in
                        guard case .scalar(let scalar) = item else {
                            throw ConfigurationError("invalid value for '\(path)' (\(source)): list items must be strings")
                        }
                        return scalar.string
                    })
            default:
                throw ConfigurationError("invalid value for '\(path)' (\(source))")
            }
            values[AbsoluteConfigKey(components)] = ConfigValue(content, isSecret: key.isSecret)
        }
    }

    /// Replaces `${VAR}` with the variable's value (empty when unset); `$${` is a literal `${`.
    static func expand(_ text: String, environment: [String: String], source: String) throws -> String {
        var out = ""
        var rest = text[...]
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                out += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigurationError("unterminated ${ in \(source)")
            }
            let name = String(rest[start.upperBound..<end])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ConfigurationError("invalid variable name '${\(name)}' in \(source)")
            }
            out += environment[name] ?? ""
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
