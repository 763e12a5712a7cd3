/// Writes one compact JSON object field by field, its keys and strings escaped by
/// ``JSONString``: the one field encoder of every JSON the service writes by hand (records,
/// sessions, `/health/info`).
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8]
    private var isEmpty = true

    /// An empty object, with room for `capacity` bytes in all.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Goes on writing `fields`: an object with at least one field, without its closing brace.
    init(continuing fields: ArraySlice<UInt8>, reservingCapacity capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: fields)
        isEmpty = false
    }

    /// A string field.
    public mutating func add(_ key: String, _ value: String) {
        appendKey(key)
        JSONString.append(value, to: &bytes)
    }

    /// An integer field.
    public mutating func add(_ key: String, _ value: some BinaryInteger) {
        appendKey(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A boolean field.
    public mutating func add(_ key: String, _ value: Bool) {
        appendKey(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A number field; `null` when it is not finite (JSON has no NaN or infinity).
    public mutating func add(_ key: String, _ value: Double) {
        appendKey(key)
        bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    }

    /// A time field, in RFC 3339 with milliseconds.
    public mutating func add(_ key: String, _ time: Timestamp) {
        add(key, time.rfc3339)
    }

    /// A field whose value is an object written by another writer.
    public mutating func add(_ key: String, _ object: JSONObjectWriter) {
        appendKey(key)
        object.append(to: &bytes)
    }

    /// A field whose value is an array of objects.
    public mutating func add(_ key: String, _ objects: [JSONObjectWriter]) {
        appendKey(key)
        Self.append(objects, to: &bytes)
    }

    /// The object's bytes, closed.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// Appends `objects` to `out` as a JSON array.
    static func append(_ objects: [JSONObjectWriter], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            object.append(to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends the closed object to `out`.
    private func append(to out: inout [UInt8]) {
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "}"))
    }

    private mutating func appendKey(_ key: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONString.append(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
