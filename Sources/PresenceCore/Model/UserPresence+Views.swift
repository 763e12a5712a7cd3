/// The combination rule (SPEC §2): the combined presence as a pure function of the sessions
/// and the time.
///
/// - `status`: the first of `busy`, `online`, `away` that some live session has, else `offline`;
/// - `message`: that of the most recently updated live session with an unexpired message, else `""`;
/// - `last_seen`: the latest of every session's (ended ones' too, kept in ``UserPresence/lastSeen``);
/// - `updated_at`, `node_id`, `ttl`: those of the most recently updated session, or of a
///   later write that ended sessions (a write is a write: `updated_at` never goes back);
/// - `sessions`: how many sessions are live.
///
/// "Most recently updated" breaks ties by session id, so the order of writes never matters.
/// The public view leaves invisible sessions out entirely, and while one is live it is the
/// view frozen when the user went invisible; the owner's view counts every session and says
/// `invisible` while one is live.
extension UserPresence {
    /// What everyone but the user reads at `now`.
    public func publicView(at now: Timestamp) -> PresenceRecord {
        if let hidden, isInvisible(at: now) { return hidden.view }
        return combined(sessions.filter { $0.status != .invisible }, at: now)
    }

    /// What the user's own token (or an admin token) reads at `now`: the real fields, and
    /// `status: "invisible"` while an invisible session is live.
    public func ownerView(at now: Timestamp) -> PresenceRecord {
        var view = combined(sessions, at: now)
        if isInvisible(at: now) { view.status = .invisible }
        return view
    }

    /// The first moment after `now` at which some view of the record changes by itself (a
    /// session or a message expires), nil when nothing is ahead.
    public func nextChange(after now: Timestamp) -> Timestamp? {
        sessions.compactMap { $0.nextChange(after: now) }.min()
    }

    /// The first moment after `now` at which the public view changes by itself: while the
    /// user is invisible, only the end of the invisibility (the last invisible session
    /// expiring); otherwise ``nextChange(after:)``. Nothing else may show: not even as a
    /// cached body going stale.
    public func nextPublicChange(after now: Timestamp) -> Timestamp? {
        guard hidden != nil, isInvisible(at: now) else { return nextChange(after: now) }
        return sessions.filter { $0.status == .invisible && $0.isLive(at: now) }
            .map { ExpiryRule.firstExpiredMoment(of: $0.expiresAt) }.max()
    }

    /// The latest moment the record was written at (its newest `updated_at`).
    public var lastWritten: Timestamp {
        sessions.reduce(updatedAt) { max($0, $1.updatedAt) }
    }

    /// The rule over `included` sessions (also what ``normalize()`` keeps in the record).
    func combined(_ included: [PresenceSession], at now: Timestamp) -> PresenceRecord {
        let live = included.filter { $0.isLive(at: now) }
        let status: PresenceStatus =
            if live.contains(where: { $0.status == .busy }) {
                .busy
            } else if live.contains(where: { $0.status == .online }) {
                .online
            } else if live.contains(where: { $0.status == .away }) {
                .away
            } else if live.contains(where: { $0.status == .invisible }) {
                .invisible
            } else {
                .offline
            }
        let message =
            live.sorted(by: Self.moreRecentlyUpdated).lazy.map { $0.message(at: now) }.first { !$0.isEmpty } ?? ""
        let lastSeen = included.reduce(self.lastSeen) { max($0, $1.lastSeen) }
        var view = PresenceRecord(
            userID: userID, status: status, message: message, lastSeen: lastSeen, updatedAt: updatedAt,
            nodeID: nodeID, ttl: ttl, revision: revision, sessions: live.count)
        if let latest = included.min(by: Self.moreRecentlyUpdated), latest.updatedAt >= updatedAt {
            view.updatedAt = latest.updatedAt
            view.nodeID = latest.nodeID
            view.ttl = latest.ttl
        }
        return view
    }

    /// Orders sessions most recently updated first; equal times by session id.
    static func moreRecentlyUpdated(_ a: PresenceSession, _ b: PresenceSession) -> Bool {
        a.updatedAt != b.updatedAt ? a.updatedAt > b.updatedAt : a.id < b.id
    }
}
