import NIOConcurrencyHelpers

/// The in-memory replica of the presence bucket that answers reads.
///
/// Fed by the KV watcher and by the node's own acknowledged writes, in any order: an update
/// is applied only when its revision is newer than the one held. While the replica is
/// *complete* (the watcher's initial values are in and nothing was ever evicted) a miss is a
/// definitive "no record". Memory is bounded by `maxCost`; past it, entries are evicted by
/// sampled least-recent access, the replica stops being complete, and callers must fall
/// back to the store for misses, remembering a store miss for `negativeTTL`.
public final class PresenceReplica: Sendable {
    /// The answer of a lookup.
    public enum Lookup: Sendable, Equatable {
        /// The record is held.
        case found(StoredPresence)
        /// The user has no record (the replica is complete, or the store said so recently).
        case absent
        /// Not held and the replica cannot tell: ask the store.
        case unknown
    }

    /// One held record. Kept small (64 bytes): a million users hold a million of these.
    private struct Slot {
        var stored: StoredPresence
        /// The access tick of the last lookup or update, truncated: eviction only compares
        /// samples, so a rare wrap-around costs one less-than-ideal victim.
        var lastAccess: UInt32
        /// The resynchronisation in which the watcher last delivered this user (see
        /// ``PresenceReplica/beginResync()``); fits in what would be padding.
        var resyncMark: UInt32
    }

    private struct State {
        /// Where each user's slot is in `slots`.
        var index: [UserID: Int32] = [:]
        /// The held records, densely packed (removal moves the last slot into the gap), so
        /// eviction can sample them by position.
        var slots: [Slot] = []
        var absentUntil: [UserID: Timestamp] = [:]
        var initialSyncComplete = false
        var hasEvicted = false
        var tick: UInt64 = 0
        var statistics = CacheStatistics()
        /// The current resynchronisation; slots delivered during it carry this mark.
        var resync: UInt32 = 0
        /// The highest revision ever applied since the last ``PresenceReplica/reset()``.
        var highestRevision: UInt64 = 0
        /// How many times the replica was reset: revisions from before a reset mean nothing after it.
        var generation: UInt64 = 0
        /// The center sweeper's schedule, told of every record held and every one deleted.
        var expirySchedule: ExpirySchedule?
        /// Since when the node hears the heartbeat plane without a gap: sessions written
        /// before it are assumed alive then (``assumeAlive(since:)``).
        var livenessFloor: Timestamp?
    }

    private let state = NIOLockedValueBox(State())
    private let maxCost: Int
    private let negativeTTL: Int
    private let evictionSample = 5
    private let onChange: (@Sendable (StoredPresence) -> Void)?

    /// Creates an empty replica.
    /// - Parameters:
    ///   - maxCost: The memory bound in (approximate) bytes.
    ///   - negativeTTLSeconds: How long a store miss is remembered once the replica is incomplete.
    ///   - onChange: called (outside the replica's lock) with every record that replaced an
    ///     older revision or arrived new: the feed of live streams.
    public init(maxCost: Int, negativeTTLSeconds: Int, onChange: (@Sendable (StoredPresence) -> Void)? = nil) {
        self.maxCost = maxCost
        self.negativeTTL = negativeTTLSeconds
        self.onChange = onChange
    }

    /// Tells `schedule` of every record held now and, from now on, of every record applied
    /// or deleted (the center's sweeper; see ``ExpirySchedule``). Records the replica evicts
    /// stay on the schedule.
    public func feedExpiries(to schedule: ExpirySchedule) {
        state.withLockedValue { state in
            state.expirySchedule = schedule
            for slot in state.slots { schedule.track(slot.stored) }
        }
    }

    /// Looks a user up at `now`.
    public func lookup(_ user: UserID, now: Timestamp) -> Lookup {
        state.withLockedValue { state in
            state.tick &+= 1
            if let position = state.index[user] {
                state.slots[Int(position)].lastAccess = UInt32(truncatingIfNeeded: state.tick)
                state.statistics.hits += 1
                return .found(state.slots[Int(position)].stored)
            }
            state.statistics.misses += 1
            if state.initialSyncComplete && !state.hasEvicted { return .absent }
            if let until = state.absentUntil[user] {
                if now < until { return .absent }
                state.absentUntil[user] = nil
            }
            return .unknown
        }
    }

    /// The revision of the record held for `user`, nil when none is held. A record the
    /// watcher delivers is checked here first, so this also marks the user as present in the
    /// bucket for the current resynchronisation.
    public func heldRevision(of user: UserID) -> UInt64? {
        state.withLockedValue { state in
            guard let position = state.index[user].map(Int.init) else { return nil }
            state.slots[position].resyncMark = state.resync
            return state.slots[position].stored.revision
        }
    }

    /// Applies a record read or written before the replica's `generation` was read, unless
    /// the replica was reset since (the record belongs to a bucket it no longer mirrors).
    /// - Returns: whether the replica changed.
    @discardableResult
    public func apply(_ stored: StoredPresence, ifGeneration generation: UInt64) -> Bool {
        // A reset between this check and the apply would need the watcher thread to reset
        // and reload in that instant; the record is then at most one stale entry, replaced or
        // dropped by the next resynchronisation.
        guard self.generation == generation else { return false }
        return apply(stored)
    }

    /// Changes with every ``reset()``.
    public var generation: UInt64 {
        state.withLockedValue { $0.generation }
    }

    /// The replica's highest applied revision and its generation, read together.
    public var revisionStamp: (generation: UInt64, highestRevision: UInt64) {
        state.withLockedValue { ($0.generation, $0.highestRevision) }
    }

    /// Applies a record if its revision is newer than the one held.
    ///
    /// The record held is the new revision with what this node knows beyond it: heartbeats it
    /// heard since the older revision was written (``UserPresence/keepingHeartbeats(of:)``)
    /// and its listening floor (``assumeAlive(since:)``).
    /// - Returns: whether the replica changed.
    @discardableResult
    public func apply(_ stored: StoredPresence) -> Bool {
        let held: StoredPresence? = state.withLockedValue { state in
            let user = stored.user
            if !state.absentUntil.isEmpty { state.absentUntil[user] = nil }
            state.highestRevision = max(state.highestRevision, stored.revision)
            let position = state.index[user].map(Int.init)
            if let position {
                state.slots[position].resyncMark = state.resync
                guard stored.revision > state.slots[position].stored.revision else { return nil }
            }
            var known = stored
            if let position, state.slots[position].stored.heardAt != nil {
                known = Self.keepingHeartbeats(of: state.slots[position].stored, in: known)
            }
            if let floor = state.livenessFloor, let assumed = known.assumingAlive(since: floor) { known = assumed }
            store(known, at: position, in: &state)
            return known
        }
        if let held { onChange?(held) }
        return held != nil
    }

    /// The record held for `user` (no access counted), nil when none is.
    public func held(_ user: UserID) -> StoredPresence? {
        state.withLockedValue { state in state.index[user].map { state.slots[Int($0)].stored } }
    }

    /// Applies a heartbeat at `time` on `session` of a held record, accepted by `nodeID`
    /// (this node, or another that published it on the heartbeat plane). The rule is the
    /// heartbeat's own (``PresenceChange/heartbeat(_:sessionRequired:)``): only a live
    /// session, never backwards; the revision stays, streams are not told (a heartbeat
    /// sends no event), the sweeper's schedule is.
    /// - Returns: the record now held, nil when the heartbeat changed nothing (no record
    ///   held, no such session, the session reads offline, or it already has a later time).
    public func applyHeartbeat(
        user: UserID, session: SessionID, at time: Timestamp, nodeID: String
    ) -> StoredPresence? {
        state.withLockedValue { state in
            guard let position = state.index[user].map(Int.init) else { return nil }
            guard let stored = state.slots[position].stored.applyingHeartbeat(session: session, at: time, nodeID: nodeID)
            else { return nil }
            store(stored, at: position, in: &state)
            return stored
        }
    }

    /// Replaces the record held for `replacement.user` with `replacement` if it is still
    /// exactly `expected` (a heartbeat this node planned from it; nothing applied since).
    /// Streams are not told, the schedule is.
    /// - Returns: whether it was replaced.
    public func replace(_ expected: StoredPresence, with replacement: StoredPresence) -> Bool {
        state.withLockedValue { state in
            guard let position = state.index[replacement.user].map(Int.init), state.slots[position].stored == expected
            else { return false }
            store(replacement, at: position, in: &state)
            return true
        }
    }

    /// The node hears every heartbeat from `floor` on (it subscribed to the heartbeat plane,
    /// or its link to the hub came back): until each session's first heartbeat heard, it
    /// is assumed alive at `floor`, so nobody who kept heartbeating reads offline because
    /// their heartbeats went unheard (SPEC §3a). Applies to every record held and applied later.
    public func assumeAlive(since floor: Timestamp) {
        state.withLockedValue { state in
            if let current = state.livenessFloor, current >= floor { return }
            state.livenessFloor = floor
            for position in state.slots.indices {
                guard let assumed = state.slots[position].stored.assumingAlive(since: floor) else { continue }
                store(assumed, at: position, in: &state)
            }
        }
    }

    /// Since when the node hears the heartbeat plane (``assumeAlive(since:)``), nil before it does.
    public var livenessFloor: Timestamp? {
        state.withLockedValue { $0.livenessFloor }
    }

    /// `newer` with the heartbeats `older` (this node's copy of an earlier revision) heard.
    private static func keepingHeartbeats(of older: StoredPresence, in newer: StoredPresence) -> StoredPresence {
        let record = newer.userPresence
        let kept = record.keepingHeartbeats(of: older.userPresence)
        guard kept != record else { return newer }
        return StoredPresence(kept, heardAt: older.heardAt)
    }

    /// Puts `stored` into the slot at `position` (a new slot when nil), keeping the counters,
    /// the schedule and the memory bound.
    private func store(_ stored: StoredPresence, at position: Int?, in state: inout State) {
        state.tick &+= 1
        let tick = UInt32(truncatingIfNeeded: state.tick)
        if let position {
            let old = state.slots[position].stored
            state.slots[position].stored = stored
            state.slots[position].lastAccess = tick
            state.statistics.costBytes += stored.cost - old.cost
            state.statistics.byStatus[old.status, default: 0] -= 1
            state.statistics.byStatus[stored.status, default: 0] += 1
        } else {
            state.index[stored.user] = Int32(state.slots.count)
            state.slots.append(Slot(stored: stored, lastAccess: tick, resyncMark: state.resync))
            state.statistics.costBytes += stored.cost
            state.statistics.entries += 1
            state.statistics.byStatus[stored.status, default: 0] += 1
        }
        state.expirySchedule?.track(stored)
        evictIfNeeded(&state, keeping: stored.user)
    }

    /// Removes a user whose record was deleted or purged in the store at `revision`.
    public func remove(_ user: UserID, revision: UInt64) {
        state.withLockedValue { state in
            state.expirySchedule?.forget(user, revision: revision)
            guard let position = state.index[user], state.slots[Int(position)].stored.revision < revision else { return }
            Self.removeSlot(of: user, from: &state)
        }
    }

    /// Remembers that the store has no record for `user` (used once the replica is incomplete).
    public func rememberAbsent(_ user: UserID, now: Timestamp) {
        state.withLockedValue { state in
            guard state.index[user] == nil else { return }
            state.absentUntil[user] = now.adding(seconds: negativeTTL)
        }
    }

    /// Marks the replica as (re)synchronising, e.g. after the watcher was recreated, and
    /// starts a resynchronisation: records the watcher delivers from now on are marked, and
    /// ``finishResync(upTo:)`` drops the held records it did not deliver.
    public func beginResync() {
        state.withLockedValue { state in
            state.initialSyncComplete = false
            state.resync &+= 1
        }
    }

    /// Ends a resynchronisation once the watcher delivered its initial values: drops every
    /// held record the watcher did not deliver whose revision is at most `revision` (the
    /// bucket's last revision before the watcher started: such a record is no longer in the
    /// bucket; a newer one was written since and is on its way), then marks the replica complete.
    /// - Returns: the users dropped.
    @discardableResult
    public func finishResync(upTo revision: UInt64) -> [UserID] {
        state.withLockedValue { state in
            let stale = state.slots.filter { $0.resyncMark != state.resync && $0.stored.revision <= revision }.map(\.stored.user)
            for user in stale {
                Self.removeSlot(of: user, from: &state)
                state.expirySchedule?.forget(user, revision: .max)
            }
            state.initialSyncComplete = true
            return stale
        }
    }

    /// Forgets everything: the bucket this replica mirrored is gone (recreated, or restored
    /// from an older copy), so its revisions mean nothing any more. Until the next
    /// resynchronisation completes, every lookup is ``Lookup/unknown``.
    public func reset() {
        state.withLockedValue { state in
            state.expirySchedule?.forgetAll()
            state.index = [:]
            state.slots = []
            state.absentUntil = [:]
            state.initialSyncComplete = false
            state.hasEvicted = false
            state.highestRevision = 0
            state.generation &+= 1
            state.statistics.entries = 0
            state.statistics.costBytes = 0
            state.statistics.byStatus = [:]
        }
    }

    /// The highest revision applied since the replica was created or reset: a bucket whose
    /// last revision is lower went backwards.
    public var highestRevision: UInt64 {
        state.withLockedValue { $0.highestRevision }
    }

    /// Whether the watcher's initial values were loaded.
    public var isInitialSyncComplete: Bool {
        state.withLockedValue { $0.initialSyncComplete }
    }

    /// A copy of the counters.
    public var statistics: CacheStatistics {
        state.withLockedValue { $0.statistics }
    }

    private func evictIfNeeded(_ state: inout State, keeping protected: UserID) {
        while state.statistics.costBytes > maxCost && state.slots.count > 1 {
            var victim: UserID?
            var oldest = UInt32.max
            for _ in 0..<evictionSample {
                let slot = state.slots[Int.random(in: 0..<state.slots.count)]
                guard slot.stored.user != protected else { continue }
                if slot.lastAccess <= oldest {
                    oldest = slot.lastAccess
                    victim = slot.stored.user
                }
            }
            guard let victim else { continue }
            Self.removeSlot(of: victim, from: &state)
            state.statistics.evictions += 1
            state.hasEvicted = true
        }
    }

    private static func removeSlot(of user: UserID, from state: inout State) {
        guard let position = state.index.removeValue(forKey: user).map(Int.init) else { return }
        let slot = state.slots[position]
        let last = state.slots.removeLast()
        if position < state.slots.count {
            state.slots[position] = last
            state.index[last.stored.user] = Int32(position)
        }
        state.statistics.costBytes -= slot.stored.cost
        state.statistics.entries -= 1
        state.statistics.byStatus[slot.stored.status, default: 0] -= 1
    }
}
