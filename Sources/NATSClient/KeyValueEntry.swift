internal import CNATS

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

extension KeyValueEntry {
    init(cEntry entry: OpaquePointer) {
        let length = Int(kvEntry_ValueLen(entry))
        let bytes: [UInt8]
        if length > 0, let pointer = kvEntry_Value(entry) {
            bytes = Array(UnsafeRawBufferPointer(start: pointer, count: length))
        } else {
            bytes = []
        }
        let operation: Operation
        switch kvEntry_Operation(entry) {
        case kvOp_Delete: operation = .delete
        case kvOp_Purge: operation = .purge
        default: operation = .put
        }
        self.init(
            key: String(cString: kvEntry_Key(entry)), value: bytes, revision: kvEntry_Revision(entry),
            operation: operation)
    }
}
