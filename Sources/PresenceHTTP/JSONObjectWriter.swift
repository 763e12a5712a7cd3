import PresenceCore

/// Writes one compact JSON object field by field, its strings escaped by ``JSONString``: the
/// hand-written bodies (such as `/health/info`) need no second escaper.
struct JSONObjectWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var isEmpty = true

    /// A string field.
    mutating func add(_ key: String, _ value: String) {
        appendKey(key)
        JSONString.append(value, to: &bytes)
    }

    /// An integer field.
    mutating func add(_ key: String, _ value: some BinaryInteger) {
        appendKey(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A boolean field.
    mutating func add(_ key: String, _ value: Bool) {
        appendKey(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A number field; `null` when it is not finite (JSON has no NaN or infinity).
    mutating func add(_ key: String, _ value: Double) {
        appendKey(key)
        bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    }

    /// A field whose value is an object written by another writer.
    mutating func add(_ key: String, _ object: JSONObjectWriter) {
        appendKey(key)
        bytes.append(contentsOf: object.finished)
    }

    /// A field whose value is an array of objects.
    mutating func add(_ key: String, _ objects: [JSONObjectWriter]) {
        appendKey(key)
        bytes.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: object.finished)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The object's bytes, closed.
    var finished: [UInt8] { bytes + [UInt8(ascii: "}")] }

    private mutating func appendKey(_ key: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONString.append(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
