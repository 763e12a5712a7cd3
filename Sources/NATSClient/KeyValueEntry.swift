/// One value of a KV bucket, or a delete or purge marker.
public struct KeyValueEntry: Sendable, Equatable {
    /// What the entry records.
    public enum Operation: Sendable, Equatable { case put, delete, purge }

    /// The key.
    public let key: String
    /// The value's bytes (empty for markers).
    public let value: [UInt8]
    /// The stream sequence of this entry.
    public let revision: UInt64
    /// Put, delete or purge.
    public let operation: Operation
}
