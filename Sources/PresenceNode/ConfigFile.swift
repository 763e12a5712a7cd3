import Foundation
import Yams

/// The YAML configuration file: `${VAR}` expanded from the environment, flattened to dotted
/// keys, every key checked against ``ConfigSchema``.
enum ConfigFile {
    /// Reads and validates the file at `path`.
    static func load(path: String, environment: [String: String]) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the configuration file \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), environment: environment, source: path)
    }

    /// Parses YAML text into dotted keys and textual values.
    static func parse(_ text: String, environment: [String: String], source: String) throws -> [String: String] {
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
        var values: [String: String] = [:]
        try flatten(node, prefix: "", into: &values, source: source)
        return values
    }

    private static func flatten(_ node: Node, prefix: String, into values: inout [String: String], source: String) throws {
        switch node {
        case .mapping(let mapping):
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigurationError("a key in \(source) is not a string")
                }
                let path = prefix.isEmpty ? key : prefix + "." + key
                if case .mapping = valueNode {
                    try flatten(valueNode, prefix: path, into: &values, source: source)
                    continue
                }
                guard let type = ConfigSchema.keys[path] else {
                    throw ConfigurationError("unknown configuration key '\(path)' in \(source)")
                }
                switch valueNode {
                case .scalar(let scalar):
                    if scalar.tag == .init(.null) || (scalar.string.isEmpty && scalar.style == .plain) {
                        continue
                    }
                    values[path] = scalar.string
                case .sequence(let sequence):
                    guard type == .stringArray else {
                        throw ConfigurationError("invalid value for '\(path)' in \(source): a list is not allowed here")
                    }
                    let items = try sequence.map { item -> String in
                        guard let text = item.string else {
                            throw ConfigurationError("invalid value for '\(path)' in \(source): list items must be strings")
                        }
                        return text
                    }
                    values[path] = items.joined(separator: ",")
                default:
                    throw ConfigurationError("invalid value for '\(path)' in \(source)")
                }
            }
        default:
            throw ConfigurationError("unexpected value at '\(prefix)' in \(source)")
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
