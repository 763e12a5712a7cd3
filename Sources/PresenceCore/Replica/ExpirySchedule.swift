import HeapModule
import NIOConcurrencyHelpers

/// The center sweeper's schedule: when each record's next expiry (a session's, or its
/// message's) falls due, and when a record untouched for `presence.retention` is due to be
/// dropped. The sweeper owns it; the store feeds it every record it holds and every change
/// (``ExpiringPresenceRepository/track(_:)``), so it knows each user's latest revision.
///
/// One entry per user on a heap: no pass ever scans all records. An entry that no longer
/// matches its user's schedule (written since) is skipped when popped. Independent of the
/// replica's memory bound: a record the replica evicted is still scheduled (and dropped when
/// its retention has passed). It costs about 100 bytes per user, outside `cache.max_cost`:
/// a dictionary entry (the id, 16 bytes, and 32 bytes of revision and times, at the
/// dictionary's load factor) and a 24-byte heap entry.
public final class ExpirySchedule: Sendable {
    /// A record with a session or message expiry that still has to be persisted, or one
    /// untouched for the retention period that has to be dropped.
    public struct DueExpiry: Sendable, Equatable {
        /// Whose record.
        public let user: UserID
        /// The revision the sweeper saw: its write is a compare-and-set on it.
        public let revision: UInt64
        /// Whether the record is to be dropped (retention) rather than have its expiries persisted.
        public var drop = false

        public init(user: UserID, revision: UInt64, drop: Bool = false) {
            self.user = user
            self.revision = revision
            self.drop = drop
        }
    }

    /// What the schedule knows of one user's latest record: 32 bytes (no optionals, whose
    /// tags would add a word), ``never`` for a time that does not come.
    private struct Tracked {
        var revision: UInt64
        /// When the record may change by itself (``StoredPresence/changesAt``).
        var changesAtMillis: Int64
        var lastWrittenMillis: Int64
        /// When this user's one entry on the heap falls due.
        var scheduledAtMillis: Int64

        static let never = Int64.max

        var changesAt: Timestamp? {
            changesAtMillis == Self.never ? nil : Timestamp(millisecondsSinceEpoch: changesAtMillis)
        }
    }

    private struct Entry: Comparable {
        var dueMillis: Int64
        var user: UserID

        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.dueMillis < rhs.dueMillis }
    }

    private struct State {
        var tracked: [UserID: Tracked] = [:]
        var heap = Heap<Entry>()
    }

    private let state = NIOLockedValueBox(State())
    private let retentionSeconds: Int?

    /// An empty schedule.
    /// - Parameter retentionSeconds: `presence.retention`: also schedule each record to be
    ///   dropped this long after its last write; nil keeps records.
    public init(retentionSeconds: Int?) {
        self.retentionSeconds = retentionSeconds
    }

    /// A record the store now holds; ignored unless its revision is newer than the one known,
    /// or it is that revision with other times (a heartbeat moved its expiry, SPEC §3a).
    public func track(_ stored: StoredPresence) {
        state.withLockedValue { state in
            let changesAtMillis = stored.changesAt?.millisecondsSinceEpoch ?? Tracked.never
            if let known = state.tracked[stored.user] {
                if known.revision > stored.revision { return }
                if known.revision == stored.revision, known.changesAtMillis == changesAtMillis,
                    known.lastWrittenMillis == stored.lastWrittenMillis
                {
                    return
                }
            }
            let scheduled = state.tracked[stored.user]?.scheduledAtMillis ?? Tracked.never
            state.tracked[stored.user] = Tracked(
                revision: stored.revision, changesAtMillis: changesAtMillis,
                lastWrittenMillis: stored.lastWrittenMillis, scheduledAtMillis: scheduled)
            schedule(stored.user, in: &state)
        }
    }

    /// The store deleted `user`'s record at `revision` (a drop, or a bucket resynchronised).
    public func forget(_ user: UserID, revision: UInt64) {
        state.withLockedValue { state in
            guard let known = state.tracked[user], known.revision < revision else { return }
            state.tracked[user] = nil
        }
    }

    /// The store forgot everything (the bucket it mirrored was replaced).
    public func forgetAll() {
        state.withLockedValue { $0 = State() }
    }

    /// Records due at `now` and not yet handed out, soonest first, at most `limit` of them.
    /// Each is returned once; ``retry(_:at:)`` puts one back (e.g. after a failed write).
    public func due(now: Timestamp, limit: Int) -> [DueExpiry] {
        state.withLockedValue { state in
            var due: [DueExpiry] = []
            var popped = 0
            let nowMillis = now.millisecondsSinceEpoch
            while due.count < limit, popped < limit * 4, let next = state.heap.min, nowMillis >= next.dueMillis {
                _ = state.heap.popMin()
                popped += 1
                guard var tracked = state.tracked[next.user], tracked.scheduledAtMillis == next.dueMillis else { continue }
                tracked.scheduledAtMillis = Tracked.never
                state.tracked[next.user] = tracked
                if let changesAt = tracked.changesAt, ExpiryRule.hasArrived(changesAt, at: now) {
                    due.append(DueExpiry(user: next.user, revision: tracked.revision))
                } else if tracked.changesAt == nil, let dropAt = dropMoment(of: tracked), ExpiryRule.hasArrived(dropAt, at: now) {
                    // Only a record without a change to come: a long TTL outlives a short retention.
                    due.append(DueExpiry(user: next.user, revision: tracked.revision, drop: true))
                } else {
                    schedule(next.user, in: &state)  // refreshed since
                }
            }
            return due
        }
    }

    /// When the soonest entry falls due, nil if none. The entry may be stale (its record was
    /// written since): a pass at that time then finds nothing due.
    public var nextDue: Timestamp? {
        state.withLockedValue { $0.heap.min.map { Timestamp(millisecondsSinceEpoch: $0.dueMillis) } }
    }

    /// Entries on the heap, stale ones included (one per user, but for stale ones not yet popped).
    var entryCount: Int { state.withLockedValue { $0.heap.count } }

    /// Puts a due record back on the schedule, due at `time` (unless it was forgotten since).
    public func retry(_ due: DueExpiry, at time: Timestamp) {
        state.withLockedValue { state in
            guard state.tracked[due.user] != nil else { return }
            let millis = time.millisecondsSinceEpoch
            state.tracked[due.user]?.scheduledAtMillis = millis
            state.heap.insert(Entry(dueMillis: millis, user: due.user))
        }
    }

    /// When a record is due to be dropped (retention), nil when records are kept.
    private func dropMoment(of tracked: Tracked) -> Timestamp? {
        retentionSeconds.map {
            ExpiryRule.retainedUntil(lastWritten: Timestamp(millisecondsSinceEpoch: tracked.lastWrittenMillis), retentionSeconds: $0)
        }
    }

    /// Gives `user` its entry, unless an entry that falls due no later exists already (it is
    /// re-checked and moved when popped).
    private func schedule(_ user: UserID, in state: inout State) {
        guard let tracked = state.tracked[user] else { return }
        // A record with a change to come is not dropped before it (see `due`): its entry
        // waits for the change, or it would come due again and again, ahead of others.
        guard let dueAt = (tracked.changesAt ?? dropMoment(of: tracked))?.millisecondsSinceEpoch else { return }
        if tracked.scheduledAtMillis <= dueAt { return }
        state.tracked[user]?.scheduledAtMillis = dueAt
        state.heap.insert(Entry(dueMillis: dueAt, user: user))
    }
}
