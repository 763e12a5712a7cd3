/// What the HTTP layer needs from a presence store; the NATS KV store implements it.
public protocol PresenceRepository: Sendable {
    /// The current record of one user, or nil when the user has none.
    /// - Throws: ``PresenceError`` `unavailable` when the store cannot be reached.
    func presence(of user: UserID) async throws(PresenceError) -> StoredPresence?

    /// Applies a change to one user's record with a compare-and-set.
    ///
    /// - Parameters:
    ///   - ifMatch: the revision the client expects (`If-Match`); a mismatch is
    ///     `precondition_failed`. Without it a lost race is retried on the new revision.
    /// - Returns: the record after the change, as it reads.
    /// - Throws: ``PresenceError`` `not_found`, `precondition_failed` or `unavailable`.
    func apply(_ change: PresenceChange, to user: UserID, ifMatch: RevisionMatch?) async throws(PresenceError)
        -> StoredPresence

    /// Whether the node can serve: store connected, bucket reachable, replica loaded.
    func readiness() -> Readiness

    /// Entries of the audit trail (SPEC §3c), oldest first.
    /// - Throws: ``PresenceError`` `unavailable` when the trail cannot be read.
    func auditEntries(_ query: AuditQuery) async throws(PresenceError) -> AuditPage
}

extension PresenceRepository {
    /// A store without an audit trail.
    public func auditEntries(_ query: AuditQuery) async throws(PresenceError) -> AuditPage {
        throw PresenceError(.unavailable, "this store keeps no audit trail")
    }
}

/// An `If-Match` precondition.
public enum RevisionMatch: Sendable, Equatable {
    /// `If-Match: *`: the record must exist.
    case any
    /// `If-Match: "42"`: the record must be at this revision.
    case revision(UInt64)
    /// `If-Match: "41", "42"`: the record must be at one of these revisions.
    case oneOf(Set<UInt64>)
    /// An `If-Match` that can match nothing (e.g. a weak or malformed tag).
    case none
}

/// The answer of a readiness check.
public struct Readiness: Sendable, Equatable {
    /// Whether the node is ready.
    public var isReady: Bool
    /// Why not, when it is not.
    public var reason: String?

    /// Ready.
    public static let ready = Readiness(isReady: true, reason: nil)

    /// Not ready, for a reason.
    public static func notReady(_ reason: String) -> Readiness {
        Readiness(isReady: false, reason: reason)
    }
}
