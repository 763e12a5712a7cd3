import PresenceCore

/// What the user (or an admin) reads of the user's own presence, for the REST routes and the
/// socket's own replies alike.
enum OwnerView {
    /// The user's own view: the real fields, `invisible` while hidden, and with
    /// `includeSessions` a `session_list` of every session as it reads at `now`.
    static func body(_ stored: StoredPresence, at now: Timestamp, includeSessions: Bool) -> [UInt8] {
        // Most users: one plain session, whose owner's view is the public one (no decoding).
        if !includeSessions, stored.publicBodyIsOwnersView { return stored.body(at: now) }
        let record = stored.userPresence
        var body = PresenceJSON.encodeResponse(record.ownerView(at: now))
        guard includeSessions else { return body }
        body.removeLast()
        body.append(contentsOf: #","session_list":"#.utf8)
        UserPresenceJSON.appendSessions(record.sessions.map { $0.effective(at: now) }, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }
}
