/// Any JSON value, so request bodies can be checked field by field with precise errors.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number that denotes an integer exactly and fits in `Int`: `42`, and also `42.0` or
    /// `4.2e1` (decided on the decimal text, so `41.99999999999999999` is not one).
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses `bytes` as exactly one JSON value under the strict rules of ``StrictJSON``.
    /// - Returns: nil when the bytes are not such a value.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        StrictJSON.parse(bytes)
    }

    /// Parses a body that must be a JSON object: its fields, or nil.
    public static func object(from bytes: [UInt8]) -> [String: JSONValue]? {
        guard case .object(let fields)? = parse(bytes) else { return nil }
        return fields
    }
}
