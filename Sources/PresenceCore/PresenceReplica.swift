import HeapModule
import Synchronization

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

    private struct Slot {
        var stored: StoredPresence
        var position: Int
        var lastAccess: UInt64
        /// When this user's one entry on the expiry schedule falls due, if it has one.
        var scheduledExpiry: Int64?
    }

    /// A record that expired and still has to be persisted as offline.
    public struct DueExpiry: Sendable, Equatable {
        /// Whose record.
        public let user: UserID
        /// The revision the sweeper saw: its write is a compare-and-set on it.
        public let revision: UInt64
    }

    /// When a held record expires, for the sweeper. One live entry per user: an entry that no
    /// longer matches its slot's `scheduledExpiry` is stale and skipped when popped.
    private struct ExpiryEntry: Comparable {
        var expiresAtMillis: Int64
        var user: UserID
        var revision: UInt64

        static func < (lhs: ExpiryEntry, rhs: ExpiryEntry) -> Bool { lhs.expiresAtMillis < rhs.expiresAtMillis }
        static func == (lhs: ExpiryEntry, rhs: ExpiryEntry) -> Bool {
            lhs.expiresAtMillis == rhs.expiresAtMillis && lhs.user == rhs.user && lhs.revision == rhs.revision
        }
    }

    private struct State {
        var expiries = Heap<ExpiryEntry>()
        var slots: [UserID: Slot] = [:]
        var order: [UserID] = []
        var absentUntil: [UserID: Timestamp] = [:]
        var initialSyncComplete = false
        var hasEvicted = false
        var tick: UInt64 = 0
        var statistics = CacheStatistics()
    }

    private let state = Mutex(State())
    private let maxCost: Int
    private let negativeTTL: Int
    private let evictionSample = 5
    private let onChange: (@Sendable (StoredPresence) -> Void)?
    private let tracksExpiry: Bool

    /// Creates an empty replica.
    /// - Parameters:
    ///   - maxCost: The memory bound in (approximate) bytes.
    ///   - negativeTTLSeconds: How long a store miss is remembered once the replica is incomplete.
    ///   - onChange: called (outside the replica's lock) with every record that replaced an
    ///     older revision or arrived new: the feed of live streams.
    ///   - tracksExpiry: keep the expiry schedule (only the center's sweeper uses it).
    public init(
        maxCost: Int, negativeTTLSeconds: Int, onChange: (@Sendable (StoredPresence) -> Void)? = nil,
        tracksExpiry: Bool = false
    ) {
        self.maxCost = maxCost
        self.negativeTTL = negativeTTLSeconds
        self.onChange = onChange
        self.tracksExpiry = tracksExpiry
    }

    /// Looks a user up at `now`.
    public func lookup(_ user: UserID, now: Timestamp) -> Lookup {
        state.withLock { state in
            state.tick &+= 1
            if let index = state.slots.index(forKey: user) {
                state.slots.values[index].lastAccess = state.tick
                state.statistics.hits += 1
                return .found(state.slots.values[index].stored)
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

    /// Applies a record if its revision is newer than the one held.
    /// - Returns: whether the replica changed.
    @discardableResult
    public func apply(_ stored: StoredPresence) -> Bool {
        let changed = state.withLock { state in
            let user = stored.record.userID
            state.absentUntil[user] = nil
            state.tick &+= 1
            if let index = state.slots.index(forKey: user) {
                let old = state.slots.values[index].stored
                guard stored.record.revision > old.record.revision else { return false }
                state.slots.values[index].stored = stored
                state.slots.values[index].lastAccess = state.tick
                state.statistics.costBytes += stored.cost - old.cost
                state.statistics.byStatus[old.record.status, default: 0] -= 1
                state.statistics.byStatus[stored.record.status, default: 0] += 1
            } else {
                state.slots[user] = Slot(stored: stored, position: state.order.count, lastAccess: state.tick)
                state.order.append(user)
                state.statistics.costBytes += stored.cost
                state.statistics.entries += 1
                state.statistics.byStatus[stored.record.status, default: 0] += 1
            }
            if tracksExpiry { Self.schedule(user, in: &state) }
            evictIfNeeded(&state, keeping: user)
            return true
        }
        if changed { onChange?(stored) }
        return changed
    }

    /// Removes a user whose record was deleted or purged in the store at `revision`.
    public func remove(_ user: UserID, revision: UInt64) {
        state.withLock { state in
            guard let slot = state.slots[user], slot.stored.record.revision < revision else { return }
            Self.removeSlot(of: user, from: &state)
        }
    }

    /// Remembers that the store has no record for `user` (used once the replica is incomplete).
    public func rememberAbsent(_ user: UserID, now: Timestamp) {
        state.withLock { state in
            guard state.slots[user] == nil else { return }
            state.absentUntil[user] = now.adding(seconds: negativeTTL)
        }
    }

    /// Marks the watcher's initial values as loaded: from now on a miss can be definitive.
    public func markInitialSyncComplete() {
        state.withLock { $0.initialSyncComplete = true }
    }

    /// Marks the replica as (re)synchronising, e.g. after the watcher was recreated.
    public func markResynchronising() {
        state.withLock { $0.initialSyncComplete = false }
    }

    /// Whether every record of the store is held, so a miss is definitive.
    public var isComplete: Bool {
        state.withLock { $0.initialSyncComplete && !$0.hasEvicted }
    }

    /// Whether the watcher's initial values were loaded.
    public var isInitialSyncComplete: Bool {
        state.withLock { $0.initialSyncComplete }
    }

    /// A copy of the counters.
    public var statistics: CacheStatistics {
        state.withLock { $0.statistics }
    }

    /// Every held record (a copy; for tools and tests).
    public func allRecords() -> [PresenceRecord] {
        state.withLock { state in state.slots.values.map(\.stored.record) }
    }

    /// Records expired at `now` and not yet persisted as offline, soonest first, at most
    /// `limit` of them. Each is returned once; ``retryExpiry(_:at:)`` puts one back (e.g.
    /// after a failed write). A record evicted from memory is still returned (its write
    /// reads the bucket).
    public func dueExpiries(now: Timestamp, limit: Int) -> [DueExpiry] {
        state.withLock { state in
            var due: [DueExpiry] = []
            var popped = 0
            let nowMillis = now.millisecondsSinceEpoch
            while due.count < limit, popped < limit * 4, let next = state.expiries.min, next.expiresAtMillis < nowMillis {
                _ = state.expiries.popMin()
                popped += 1
                guard let index = state.slots.index(forKey: next.user) else {
                    due.append(DueExpiry(user: next.user, revision: next.revision))
                    continue
                }
                guard state.slots.values[index].scheduledExpiry == next.expiresAtMillis else { continue }
                state.slots.values[index].scheduledExpiry = nil
                let record = state.slots.values[index].stored.record
                guard record.status != .offline else { continue }
                if record.isExpired(at: now) {
                    due.append(DueExpiry(user: record.userID, revision: record.revision))
                } else {
                    Self.schedule(record.userID, in: &state)  // refreshed by a heartbeat since
                }
            }
            return due
        }
    }

    /// Puts a due record back on the schedule, due at `time`.
    public func retryExpiry(_ due: DueExpiry, at time: Timestamp) {
        state.withLock { state in
            let millis = time.millisecondsSinceEpoch
            if let index = state.slots.index(forKey: due.user) {
                state.slots.values[index].scheduledExpiry = millis
            }
            state.expiries.insert(ExpiryEntry(expiresAtMillis: millis, user: due.user, revision: due.revision))
        }
    }

    /// Entries on the expiry schedule (including stale ones not yet popped).
    public var scheduledExpiries: Int {
        state.withLock { $0.expiries.count }
    }

    /// Gives `user`'s held record its entry on the schedule, unless an entry that falls due
    /// no later already exists (it is re-checked and moved when popped).
    private static func schedule(_ user: UserID, in state: inout State) {
        guard let index = state.slots.index(forKey: user) else { return }
        let record = state.slots.values[index].stored.record
        guard record.status != .offline else { return }
        let expiresAt = record.updatedAt.adding(seconds: record.ttl).millisecondsSinceEpoch
        if let scheduled = state.slots.values[index].scheduledExpiry, scheduled <= expiresAt { return }
        state.slots.values[index].scheduledExpiry = expiresAt
        state.expiries.insert(ExpiryEntry(expiresAtMillis: expiresAt, user: user, revision: record.revision))
    }

    private func evictIfNeeded(_ state: inout State, keeping protected: UserID) {
        while state.statistics.costBytes > maxCost && state.order.count > 1 {
            var victim: UserID?
            var oldest = UInt64.max
            for _ in 0..<evictionSample {
                let candidate = state.order[Int.random(in: 0..<state.order.count)]
                guard candidate != protected, let slot = state.slots[candidate] else { continue }
                if slot.lastAccess < oldest {
                    oldest = slot.lastAccess
                    victim = candidate
                }
            }
            guard let victim else { continue }
            Self.removeSlot(of: victim, from: &state)
            state.statistics.evictions += 1
            state.hasEvicted = true
        }
    }

    private static func removeSlot(of user: UserID, from state: inout State) {
        guard let slot = state.slots.removeValue(forKey: user) else { return }
        let last = state.order.removeLast()
        if slot.position < state.order.count {
            state.order[slot.position] = last
            state.slots[last]?.position = slot.position
        }
        state.statistics.costBytes -= slot.stored.cost
        state.statistics.entries -= 1
        state.statistics.byStatus[slot.stored.record.status, default: 0] -= 1
    }
}
