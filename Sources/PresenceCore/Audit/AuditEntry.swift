/// One accepted change as the audit trail keeps it (SPEC §3c): when, whose record, which
/// session, the change, the status before and after (as the owner reads it), whether the
/// message changed, who asked (``AuditActor``), on which node, the revision stored.
///
/// The message text is kept only while the user is not invisible after the change, unless
/// `keepInvisibleMessages`: an invisible user's message is for nobody else, the audit's
/// readers included. Heartbeats are not changes: ``init(change:before:after:actor:nodeID:at:keepInvisibleMessages:)``
/// returns nil for them, as for a change that stored nothing.
public struct AuditEntry: Sendable, Equatable {
    public var time: Timestamp
    public var user: UserID
    /// The session changed; nil for a change of every session (`DELETE /presence/{user}`, expiry).
    public var session: SessionID?
    /// `set`, `end_session`, `end_all` or `expire`.
    public var change: String
    /// The owner's view of the status before (nil: the user had no record).
    public var statusBefore: PresenceStatus?
    public var statusAfter: PresenceStatus
    public var messageChanged: Bool
    /// The message after the change, when it may be kept.
    public var message: String?
    public var actor: AuditActor?
    public var nodeID: String
    public var revision: UInt64

    /// The entry for `change` stored as `after` over `before`; nil when the change is not
    /// audited (a heartbeat).
    public init?(
        change: PresenceChange, before: UserPresence?, after: UserPresence, actor: AuditActor?, nodeID: String,
        at now: Timestamp, keepInvisibleMessages: Bool
    ) {
        switch change {
        case .set(let session, _): (self.change, self.session) = ("set", session)
        case .endSession(let session): (self.change, self.session) = ("end_session", session)
        case .endAll: (self.change, self.session) = ("end_all", nil)
        case .expire: (self.change, self.session) = ("expire", nil)
        case .heartbeat: return nil
        }
        let viewBefore = before?.ownerView(at: now)
        let viewAfter = after.ownerView(at: now)
        self.time = now
        self.user = after.userID
        self.statusBefore = viewBefore?.status
        self.statusAfter = viewAfter.status
        self.messageChanged = (viewBefore?.message ?? "") != viewAfter.message
        self.message = viewAfter.status == .invisible && !keepInvisibleMessages ? nil : viewAfter.message
        self.actor = actor
        self.nodeID = nodeID
        self.revision = after.revision
    }

    /// The entry as the stream stores it and the API serves it: one JSON object.
    public func encoded() -> [UInt8] {
        var json = JSONObjectWriter(reservingCapacity: 320)
        json.add("time", time)
        json.add("user", user.rawValue)
        if let session { json.add("session", session.rawValue) }
        json.add("change", change)
        json.add("status_before", statusBefore?.rawValue ?? "none")
        json.add("status_after", statusAfter.rawValue)
        json.add("message_changed", messageChanged)
        if let message { json.add("message", message) }
        var by = JSONObjectWriter()
        if let actor {
            by.add("sub", actor.subject)
            if let issuer = actor.issuer { by.add("iss", issuer) }
            by.add("scope", actor.scopes.joined(separator: " "))
        } else {
            by.add("system", "expiry sweeper")
        }
        json.add("by", by)
        json.add("node_id", nodeID)
        if let requestID = actor?.requestID { json.add("request_id", requestID) }
        json.add("revision", revision)
        return json.finish()
    }
}
