import Configuration
import Foundation

/// How one configuration key's value is written as text and checked: the same rules for the
/// file, the environment and flags, so a value means the same wherever it comes from.
///
/// Providers hand over text only (`.string`, or `.stringArray` for lists); the conversion,
/// the allowed range and the message are here.
struct ConfigValueFormat<Value: Sendable>: Sendable {
    /// What providers are asked for: `.string`, or `.stringArray` for a list.
    let type: ConfigType
    /// The allowed values in words ("0…65535", "center, leaf"); nil when any text is allowed.
    let allowed: String?
    /// Converts and checks a value; the error is the reason, without the key.
    let decode: @Sendable (ConfigContent) throws(ConfigValueProblem) -> Value
    /// The value as the documentation and the reference file write it.
    let encode: @Sendable (Value) -> String
}

/// Why a value is refused, in words that follow "invalid value for '<key>' (<source>): ".
struct ConfigValueProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension ConfigValueFormat {
    /// The text of a scalar value.
    private static func scalar(_ content: ConfigContent) throws(ConfigValueProblem) -> String {
        guard case .string(let text) = content else { throw ConfigValueProblem("a list is not allowed here") }
        return text
    }

    /// `"…"` in YAML when the text needs quotes, the bare text otherwise.
    static func yaml(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "./_-".contains($0) }
        return plain ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

extension ConfigValueFormat where Value == String {
    /// Any text.
    static var text: Self {
        Self(type: .string, allowed: nil, decode: { content throws(ConfigValueProblem) in try scalar(content) }, encode: { yaml($0) })
    }
}

extension ConfigValueFormat where Value == String? {
    /// Any text; empty means not set.
    static var optionalText: Self {
        Self(
            type: .string, allowed: nil,
            decode: { content throws(ConfigValueProblem) in
                let value = try scalar(content)
                return value.isEmpty ? nil : value
            },
            encode: { $0.map { yaml($0) } ?? "\"\"" })
    }
}

extension ConfigValueFormat where Value == Int {
    /// A decimal integer in `range`.
    static func int(in range: ClosedRange<Int>) -> Self {
        Self(
            type: .string, allowed: describe(range),
            decode: { content throws(ConfigValueProblem) in
                let text = try scalar(content)
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    throw ConfigValueProblem("'\(text)' is not an integer")
                }
                guard range.contains(value) else { throw ConfigValueProblem("\(value) is outside \(describe(range))") }
                return value
            },
            encode: { String($0) })
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? "at least \(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)"
    }
}

extension ConfigValueFormat where Value == Double {
    /// A finite decimal number in `range`.
    static func double(in range: ClosedRange<Double>) -> Self {
        Self(
            type: .string, allowed: describe(range),
            decode: { content throws(ConfigValueProblem) in
                let text = try scalar(content)
                guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw ConfigValueProblem("'\(text)' is not a number")
                }
                guard range.contains(value) else {
                    throw ConfigValueProblem("\(number(value)) is outside \(describe(range))")
                }
                return value
            },
            encode: { number($0) })
    }

    /// `10` for whole numbers, `0.5` otherwise.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func describe(_ range: ClosedRange<Double>) -> String {
        range.upperBound == .greatestFiniteMagnitude
            ? "at least \(number(range.lowerBound))" : "\(number(range.lowerBound))…\(number(range.upperBound))"
    }
}

extension ConfigValueFormat where Value == Bool {
    /// `true`, `yes`, `on`, `1` or `false`, `no`, `off`, `0`, in any case.
    static var bool: Self {
        Self(
            type: .string, allowed: "true, false",
            decode: { content throws(ConfigValueProblem) in
                let text = try scalar(content)
                switch text.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true", "yes", "on", "1": return true
                case "false", "no", "off", "0": return false
                default: throw ConfigValueProblem("'\(text)' is not true or false")
                }
            },
            encode: { String($0) })
    }
}

extension ConfigValueFormat where Value == [String] {
    /// A list: a YAML sequence, or comma-separated text; empty items are dropped.
    static var list: Self {
        Self(
            type: .stringArray, allowed: nil,
            decode: { content throws(ConfigValueProblem) in
                let items: [String]
                switch content {
                case .stringArray(let array): items = array
                case .string(let text): items = text.split(separator: ",").map(String.init)
                default: throw ConfigValueProblem("expected a list of strings")
                }
                return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            },
            encode: { "[" + $0.map { yaml($0) }.joined(separator: ", ") + "]" })
    }
}

extension ConfigValueFormat {
    /// One of `names` (the first listed name of a value is how it is written); `aliases` are
    /// accepted too but not documented.
    static func choice(
        _ names: [(String, Value)], aliases: [(String, Value)] = [], ignoringCase: Bool
    ) -> Self where Value: Equatable {
        let documented = names.map(\.0)
        let table = names + aliases
        let expected =
            documented.count > 1
            ? documented.dropLast().joined(separator: ", ") + " or " + (documented.last ?? "") : documented.joined()
        return Self(
            type: .string, allowed: documented.joined(separator: ", "),
            decode: { content throws(ConfigValueProblem) in
                let text = try scalar(content)
                let wanted = ignoringCase ? text.lowercased() : text
                guard let match = table.first(where: { $0.0 == wanted }) else {
                    throw ConfigValueProblem("'\(text)' (expected \(expected))")
                }
                return match.1
            },
            encode: { value in table.first(where: { $0.1 == value })?.0 ?? "" })
    }
}
