/// A JetStream stream that ``JetStream/addStream(_:)`` creates when it is missing.
public struct StreamConfiguration: Sendable, Equatable {
    /// The stream's name.
    public var name: String
    /// The subjects it stores (wildcards allowed).
    public var subjects: [String]
    /// Copies kept in a clustered JetStream (1 on a single server).
    public var replicas: Int
    /// How long a message is kept; zero keeps it for ever.
    public var maxAge: Duration
    /// Whether messages and the stream's content may never be deleted or purged through the API.
    public var appendOnly: Bool

    /// A file-backed stream with these limits.
    public init(name: String, subjects: [String], replicas: Int, maxAge: Duration, appendOnly: Bool) {
        self.name = name
        self.subjects = subjects
        self.replicas = replicas
        self.maxAge = maxAge
        self.appendOnly = appendOnly
    }
}
