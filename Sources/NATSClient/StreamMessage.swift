/// One message read back from a stream.
public struct StreamMessage: Sendable, Equatable {
    /// The subject it was published on.
    public var subject: String
    /// Its sequence in the stream.
    public var sequence: UInt64
    /// When the stream stored it, in nanoseconds since 1970.
    public var storedAtNanoseconds: Int64
    /// Its payload.
    public var payload: [UInt8]

    public init(subject: String, sequence: UInt64, storedAtNanoseconds: Int64, payload: [UInt8]) {
        self.subject = subject
        self.sequence = sequence
        self.storedAtNanoseconds = storedAtNanoseconds
        self.payload = payload
    }
}
