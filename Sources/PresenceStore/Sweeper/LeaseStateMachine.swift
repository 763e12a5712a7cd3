/// The rules of a lease held in a KV key, as a value: who may run the center's expiry
/// sweeper when several centers share the bucket. Observations go in, writes come out; the
/// ``SweeperLease`` carries them out. No I/O and no wall clock: times are offsets of one
/// monotonic clock, so centers whose clocks disagree still agree on who holds the lease.
///
/// - The holder refreshes the key with a compare-and-set on the revision it last wrote.
/// - Another center that sees the same revision for ``takeOverAfter`` (measured on its own
///   clock) takes the lease over with a compare-and-set on that revision: of several that try,
///   one wins.
/// - A holder whose refresh fails, or who reads a revision it did not write, holds it no more.
///   Two sweepers for a moment are harmless (every sweep write is a compare-and-set on the
///   record), so the lease only keeps the work on one center.
struct LeaseStateMachine: Sendable {
    /// What the key holds.
    enum Observation: Sendable, Equatable {
        case absent
        case held(by: String, revision: UInt64)
    }

    /// The write to make.
    enum Action: Sendable, Equatable {
        case none
        /// Create the key (expecting no value).
        case create
        /// Write the key expecting this revision: a refresh, or a take-over.
        case write(expecting: UInt64)
    }

    /// This center's name, the value it writes.
    let holder: String
    /// How long a revision must stay unchanged before another center takes the lease over.
    let takeOverAfter: Duration
    /// Whether this center holds the lease.
    private(set) var isHeld = false
    /// The revision of the lease this center holds, nil when it holds none.
    private(set) var heldRevision: UInt64?
    /// The other holder's revision, and when it was first seen.
    private var watched: (revision: UInt64, since: Duration)?

    init(holder: String, takeOverAfter: Duration) {
        self.holder = holder
        self.takeOverAfter = takeOverAfter
    }

    /// The key was read at `now`.
    mutating func observed(_ observation: Observation, at now: Duration) -> Action {
        switch observation {
        case .absent:
            release()
            watched = nil
            return .create
        case .held(let by, let revision) where by == holder && (heldRevision == nil || heldRevision == revision):
            // Ours (after a restart this center may find its own name: it takes it back).
            watched = nil
            return .write(expecting: revision)
        case .held(_, let revision):
            release()
            guard let seen = watched, seen.revision == revision else {
                watched = (revision, now)
                return .none
            }
            return now - seen.since >= takeOverAfter ? .write(expecting: revision) : .none
        }
    }

    /// The write was acknowledged with `revision`: the lease is this center's.
    mutating func written(revision: UInt64) {
        isHeld = true
        heldRevision = revision
        watched = nil
    }

    /// The write failed (another center wrote first, or the bucket did not answer).
    mutating func writeFailed() {
        release()
    }

    private mutating func release() {
        isHeld = false
        heldRevision = nil
    }
}
