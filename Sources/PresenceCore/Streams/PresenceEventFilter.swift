/// The stream's event rule (SPEC §3, "The stream"), for one subscriber: a change is sent only
/// when what a public reader sees of the user changed (status or message, or going offline
/// by expiry); heartbeats, changes that leave the public view as it was and everything an
/// invisible user does send nothing, and nothing older than what was sent goes out. The
/// Server-Sent Events stream and connected sockets both apply it.
public struct PresenceEventFilter: Sendable {
    /// What the subscriber was last told about one user.
    struct Sent: Sendable {
        /// The public revision of the last event (or of the snapshot read, if nothing was sent).
        var revision: UInt64
        /// ``StoredPresence/viewDigest(at:)`` then.
        var digest: UInt32
    }

    private var sent: [UserID: Sent] = [:]

    /// A filter that has told its subscriber nothing yet.
    public init() {}

    /// Remembers a record read for the subscriber's snapshot; true when it is to be sent (it
    /// is newer than anything the subscriber was told of the user).
    public mutating func admitSnapshot(_ stored: StoredPresence, at now: Timestamp) -> Bool {
        if let previous = sent[stored.user], stored.publicRevision <= previous.revision { return false }
        sent[stored.user] = Sent(revision: stored.publicRevision, digest: stored.viewDigest(at: now))
        return true
    }

    /// Whether a change is to be sent: a later public revision whose public view differs from
    /// the last one the subscriber got. Either way the change is remembered.
    public mutating func admitChange(_ stored: StoredPresence, at now: Timestamp) -> Bool {
        let previous = sent[stored.user]
        guard stored.publicRevision > previous?.revision ?? 0 else { return false }
        let digest = stored.viewDigest(at: now)
        sent[stored.user] = Sent(revision: stored.publicRevision, digest: digest)
        return digest != previous?.digest
    }

    /// Forgets a user (unsubscribed): a later subscription starts afresh.
    public mutating func forget(_ user: UserID) {
        sent[user] = nil
    }
}
