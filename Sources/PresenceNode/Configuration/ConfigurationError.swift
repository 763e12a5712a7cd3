/// A configuration problem that stops start-up; the message names the key.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    /// Creates an error with a message that names the offending key.
    public init(_ description: String) { self.description = description }
}
