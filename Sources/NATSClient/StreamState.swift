/// Where a stream stands: enough to tell that it was recreated (another creation time) or
/// restored from an older copy (a last sequence below one already seen).
public struct StreamState: Sendable, Equatable {
    /// When the stream was created, in nanoseconds since 1970 (UTC).
    public var created: Int64
    /// The sequence of the oldest message held.
    public var firstSequence: UInt64
    /// The sequence of the newest message ever stored (a KV revision).
    public var lastSequence: UInt64

    public init(created: Int64, firstSequence: UInt64, lastSequence: UInt64) {
        self.created = created
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }
}
