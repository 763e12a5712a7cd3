/// How a KV bucket is created when it does not exist yet.
public struct KeyValueConfiguration: Sendable {
    /// Where the bucket keeps its data.
    public enum Storage: Sendable { case file, memory }

    /// The bucket name.
    public var bucket: String
    /// Values kept per key.
    public var history: UInt8 = 1
    /// Copies in a clustered JetStream.
    public var replicas: Int = 1
    /// File or memory storage.
    public var storage: Storage = .file
    /// Create the bucket when it does not exist; false: binding a missing bucket fails (a
    /// leaf waits for its centers to create it, with the replicas they are configured with).
    public var createIfMissing = true

    /// A configuration for `bucket` with one value per key, one replica, file storage.
    public init(bucket: String) { self.bucket = bucket }
}
