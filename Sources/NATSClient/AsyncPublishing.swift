/// Limits on asynchronous publishes through one JetStream context.
public struct AsyncPublishing: Sendable {
    /// Publishes awaiting their acknowledgement before a further publish waits.
    public var maxPending: Int
    /// How long a publish waits for room before it fails.
    public var stallWait: Duration

    /// `maxPending` in flight; a publish past that waits at most `stallWait`.
    public init(maxPending: Int, stallWait: Duration) {
        self.maxPending = maxPending
        self.stallWait = stallWait
    }

    /// For a service: many in flight, and a publish never holds its thread for long.
    public static let service = AsyncPublishing(maxPending: 65_536, stallWait: .milliseconds(100))
    /// For bulk loading: a publish waits as long as it takes for room.
    public static let bulk = AsyncPublishing(maxPending: 8192, stallWait: .seconds(30))
}
