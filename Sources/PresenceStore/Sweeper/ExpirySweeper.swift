import Logging
import PresenceCore
import ServiceLifecycle
import NIOConcurrencyHelpers

/// The center's expiry sweeper: persists `offline` for sessions whose TTL has passed (and `""`
/// for messages past `message_expires_at`), and drops records untouched for `presence.retention`, so
/// watchers and streams on every node see the transition. Reads never wait for it: they
/// apply the expiry rule themselves.
///
/// A pass runs when the soonest scheduled expiry falls due, and at least every `interval`.
///
/// Each pass takes at most `batchSize` due records from its ``ExpirySchedule`` (no scan of all
/// records; the store feeds it every record it holds) and writes each with a compare-and-set
/// on the revision it saw: a heartbeat or write that got there first wins and is never
/// overwritten. It depends only on ``ExpiringPresenceRepository``.
public final class ExpirySweeper: Service, Sendable {
    /// Counters since start.
    public struct Statistics: Sendable, Equatable {
        /// Records persisted as offline.
        public var transitions = 0
        /// Records that changed before the sweeper's write (a heartbeat won).
        public var conflicts = 0
        /// Writes that failed (store unreachable); retried on a later pass.
        public var failures = 0
        /// Records dropped after the retention period.
        public var dropped = 0
    }

    private let store: any ExpiringPresenceRepository
    /// When each record's expiry or drop falls due; the store keeps it current.
    let schedule: ExpirySchedule
    private let interval: Duration
    private let batchSize: Int
    private let concurrency: Int
    private let logger: Logger
    private let lease: SweeperLease?
    private let counters = NIOLockedValueBox(Statistics())

    /// Creates a sweeper that runs a pass every `interval`, at most `batchSize` records a pass,
    /// and has `store` feed its schedule.
    /// - Parameters:
    ///   - retentionSeconds: `presence.retention`: records untouched this long are dropped;
    ///     nil keeps them.
    ///   - lease: when set, passes run only while this center holds it (several centers
    ///     share the bucket; one sweeps).
    public init(
        store: any ExpiringPresenceRepository, interval: Duration, batchSize: Int, retentionSeconds: Int?,
        logger: Logger, concurrency: Int = 16, lease: SweeperLease? = nil
    ) {
        self.store = store
        self.schedule = ExpirySchedule(retentionSeconds: retentionSeconds)
        store.feedExpiries(to: schedule)
        self.lease = lease
        self.interval = interval
        self.batchSize = batchSize
        self.concurrency = concurrency
        self.logger = logger
    }

    /// A copy of the counters.
    public var statistics: Statistics { counters.withLockedValue { $0 } }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var pause = self.interval
            while !Task.isCancelled {
                try await Task.sleep(for: pause)
                pause = self.interval
                guard self.lease?.isHeld ?? true, self.store.readiness().isReady else { continue }
                let failuresBefore = self.statistics.failures
                let pass = await self.sweep()
                // A failed write is due again at once: wait the whole interval before retrying.
                guard self.statistics.failures == failuresBefore else { continue }
                // A full batch leaves more due: the rest waits the interval, so expiries take at
                // most `batchSize` writes an interval and users' own writes keep the store's pace.
                guard pass.due < self.batchSize else { continue }
                pause = self.pause(untilNextDue: self.schedule.nextDue, afterWriting: pass.written)
            }
        }
    }

    /// How long to sleep before the next pass: until the soonest scheduled expiry falls due
    /// (so `offline` reaches streams within milliseconds of the deadline, not up to a whole
    /// interval later), at least 1 ms and at most the interval.
    ///
    /// A pass that wrote nothing while the next entry is already due (an entry it could not
    /// settle) waits the whole interval, so that no such entry can make the sweeper spin.
    func pause(untilNextDue next: Timestamp?, afterWriting written: Int) -> Duration {
        guard let next else { return interval }
        let wait = Duration.milliseconds(next.millisecondsSinceEpoch - store.now.millisecondsSinceEpoch)
        if wait <= .zero && written == 0 { return interval }
        return min(max(wait, .milliseconds(1)), interval)
    }

    /// One pass: how many expiries were due (at most `batchSize`) and how many were written.
    func sweep() async -> (due: Int, written: Int) {
        let due = schedule.due(now: store.now, limit: batchSize)
        guard !due.isEmpty else { return (0, 0) }
        var written = 0
        await withTaskGroup(of: Bool.self) { group in
            var next = due.makeIterator()
            func addNext() -> Bool {
                guard let item = next.next() else { return false }
                group.addTask { await self.expire(item) }
                return true
            }
            for _ in 0..<concurrency where !addNext() { break }
            while let result = await group.next() {
                if result { written += 1 }
                _ = addNext()
            }
        }
        logger.debug("expiry sweep", metadata: ["due": "\(due.count)", "written": "\(written)"])
        return (due.count, written)
    }

    private func expire(_ due: ExpirySchedule.DueExpiry) async -> Bool {
        if due.drop { return await drop(due) }
        do {
            let stored = try await store.apply(.expire, to: due.user, ifMatch: .revision(due.revision))
            let wrote = stored.revision != due.revision
            counters.withLockedValue { wrote ? ($0.transitions += 1) : ($0.conflicts += 1) }
            return wrote
        } catch let error where error.code == .preconditionFailed || error.code == .notFound {
            counters.withLockedValue { $0.conflicts += 1 }
            return false
        } catch {
            counters.withLockedValue { $0.failures += 1 }
            schedule.retry(due, at: store.now)
            return false
        }
    }

    private func drop(_ due: ExpirySchedule.DueExpiry) async -> Bool {
        do {
            let dropped = try await store.drop(due.user, revision: due.revision)
            counters.withLockedValue { dropped ? ($0.dropped += 1) : ($0.conflicts += 1) }
            return dropped
        } catch {
            counters.withLockedValue { $0.failures += 1 }
            schedule.retry(due, at: store.now)
            return false
        }
    }
}
