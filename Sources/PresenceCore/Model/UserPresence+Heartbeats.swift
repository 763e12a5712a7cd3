/// What a node knows beyond the durable record (SPEC §3a): heartbeats it heard, which move a
/// session's `updated_at`, `last_seen` and expiry without a new revision, and the moment it
/// started listening, before which it assumes every session alive.
extension UserPresence {
    /// This record (a newer revision) with what `older` (the node's copy of an earlier one)
    /// heard since its own write: each session both have, not `offline` in either, keeps the
    /// later `updated_at` (with its `last_seen` and node) and the later assumption of life.
    /// A session the newer revision ended, set `offline` or started again later is left as
    /// it is, so a heartbeat never outlives the write that ended its session.
    public func keepingHeartbeats(of older: UserPresence) -> UserPresence {
        var merged = self
        var changed = false
        for index in merged.sessions.indices where merged.sessions[index].status != .offline {
            let session = merged.sessions[index]
            guard let heard = older.session(session.id), heard.status != .offline else { continue }
            if heard.updatedAt > session.updatedAt {
                merged.sessions[index].updatedAt = heard.updatedAt
                merged.sessions[index].lastSeen = max(session.lastSeen, heard.lastSeen)
                merged.sessions[index].nodeID = heard.nodeID
                changed = true
            }
            if let alive = heard.assumedAliveAt, alive > (session.assumedAliveAt ?? session.updatedAt) {
                merged.sessions[index].assumedAliveAt = alive
                changed = true
            }
        }
        guard changed else { return self }
        merged.normalize()
        return merged
    }

    /// This record as a node that started listening to heartbeats at `floor` reads it: every
    /// session not `offline` and last updated before `floor` is assumed alive at `floor`
    /// (its heartbeats until then went unheard), so it expires no earlier than `floor + ttl`.
    /// Nothing a read shows moves. Returns nil when no session changes.
    public func assumingAlive(since floor: Timestamp) -> UserPresence? {
        var assumed = self
        var changed = false
        for index in assumed.sessions.indices {
            let session = assumed.sessions[index]
            guard session.status != .offline, session.updatedAt < floor, (session.assumedAliveAt ?? session.updatedAt) < floor
            else { continue }
            assumed.sessions[index].assumedAliveAt = floor
            changed = true
        }
        return changed ? assumed : nil
    }
}
