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
    /// - Returns: whether the replica changed.
    @discardableResult
    public func apply(_ stored: StoredPresence) -> Bool {
        let changed = state.withLockedValue { state in
            let user = stored.user
            if !state.absentUntil.isEmpty { state.absentUntil[user] = nil }
            state.tick &+= 1
            let tick = UInt32(truncatingIfNeeded: state.tick)
            state.highestRevision = max(state.highestRevision, stored.revision)
            if let position = state.index[user].map(Int.init) {
                let old = state.slots[position].stored
                state.slots[position].resyncMark = state.resync
                guard stored.revision > old.revision else { return false }
                state.slots[position].stored = stored
                state.slots[position].lastAccess = tick
                state.statistics.costBytes += stored.cost - old.cost
                state.statistics.byStatus[old.status, default: 0] -= 1
                state.statistics.byStatus[stored.status, default: 0] += 1
            } else {
                state.index[user] = Int32(state.slots.count)
                state.slots.append(Slot(stored: stored, lastAccess: tick, resyncMark: state.resync))
                state.statistics.costBytes += stored.cost
                state.statistics.entries += 1
                state.statistics.byStatus[stored.status, default: 0] += 1
            }
            state.expirySchedule?.track(stored)
            evictIfNeeded(&state, keeping: user)
            return true
        }
        if changed { onChange?(stored) }
        return changed
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
