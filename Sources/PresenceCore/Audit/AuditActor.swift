/// Who asked for a change, as the audit trail records it: the token's `sub`, `iss` and
/// scopes, and the request id. The HTTP layer sets it for the write it makes
/// (``AuditActor/current``); a change made with none set is the node's own (the expiry sweeper).
public struct AuditActor: Sendable, Equatable {
    /// The token's `sub`.
    public var subject: String
    /// The token's `iss`, if any.
    public var issuer: String?
    /// The token's scopes.
    public var scopes: [String]
    /// The request's id (`X-Request-ID`), or the socket session's.
    public var requestID: String?

    public init(subject: String, issuer: String?, scopes: [String], requestID: String?) {
        self.subject = subject
        self.issuer = issuer
        self.scopes = scopes
        self.requestID = requestID
    }

    /// The actor of the write the current task makes, nil for the node's own writes.
    @TaskLocal public static var current: AuditActor?

    /// The id of the request the current task serves (set by the HTTP layer).
    @TaskLocal public static var requestID: String?
}
