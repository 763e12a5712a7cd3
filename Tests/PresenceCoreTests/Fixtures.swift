import Testing
@testable import PresenceCore

/// 2026-11-21T10:00:00.000Z
let t0 = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)

/// `base` plus a number of milliseconds.
func at(_ base: Timestamp, plusMillis millis: Int64) -> Timestamp {
    Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + millis)
}

/// A user id for fixtures, validated as every id is (a fixture with a bad id stops the test run).
func uid(_ raw: String) -> UserID {
    do {
        return try UserID(validating: raw)
    } catch {
        fatalError("fixture user id '\(raw)' is invalid: \(error)")
    }
}

/// A session id for fixtures, validated as every id is.
func sid(_ raw: String) -> SessionID {
    do {
        return try SessionID(validating: raw)
    } catch {
        fatalError("fixture session id '\(raw)' is invalid: \(error)")
    }
}

func record(
    _ user: String = "alice", status: PresenceStatus = .online, message: String = "hello",
    lastSeen: Timestamp = t0, updatedAt: Timestamp = t0, nodeID: String = "node-1", ttl: Int = 10,
    revision: UInt64 = 1
) -> PresenceRecord {
    PresenceRecord(
        userID: uid(user), status: status, message: message, lastSeen: lastSeen, updatedAt: updatedAt,
        nodeID: nodeID, ttl: ttl, revision: revision)
}

/// A small deterministic pseudo-random generator (SplitMix64) so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UserPresence {
    /// The single-record reading of a record with at most one session, for tests written
    /// before sessions: the session's raw fields, or `offline` when no session is left.
    var single: PresenceRecord {
        guard let session = sessions.first else {
            return PresenceRecord(
                userID: userID, status: .offline, message: "", lastSeen: lastSeen, updatedAt: updatedAt, nodeID: nodeID,
                ttl: ttl, revision: revision)
        }
        return PresenceRecord(
            userID: userID, status: session.status, message: session.message, lastSeen: max(lastSeen, session.lastSeen),
            updatedAt: session.updatedAt, nodeID: session.nodeID, ttl: session.ttl, revision: revision)
    }
}

extension PresenceRecord {
    /// Whether the record's status has expired at `now` by ``ExpiryRule``.
    func isExpired(at now: Timestamp) -> Bool {
        ExpiryRule.isExpired(status: status, expiresAt: ExpiryRule.expiresAt(updatedAt: updatedAt, ttl: ttl), at: now)
    }

    /// What a read of the record reports at `now`: the public view of its single-record form.
    func publicView(at now: Timestamp) -> PresenceRecord {
        UserPresence(single: self).publicView(at: now)
    }
}

extension StoredPresence {
    /// ``UserPresence/single`` of the stored record.
    var record: PresenceRecord { userPresence.single }
}

extension PresenceChange {
    /// The single-record DELETE of v0.1 is now "end every session".
    static var goOffline: PresenceChange { .endAll }

    /// The single-record `PUT` of v0.1: session `default`.
    static func set(status: PresenceStatus, message: String, ttl: Int) -> PresenceChange {
        .set(.defaultSession, SessionUpdate(status: status, message: message, ttl: ttl))
    }

    /// ``apply(to:user:now:nodeID:maxSessions:)`` on a single record.
    func apply(to current: PresenceRecord?, user: UserID, now: Timestamp, nodeID: String) -> Outcome {
        apply(to: current.map(UserPresence.init(single:)), user: user, now: now, nodeID: nodeID, maxSessions: 16)
    }
}

extension MemoryPresenceRepository {
    /// ``compareAndSet(_:expecting:)`` of a single record.
    func compareAndSet(_ record: PresenceRecord, expecting: WritePlanner.Expectation) -> StoredPresence? {
        compareAndSet(UserPresence(single: record), expecting: expecting)
    }
}

extension WritePlanner {
    /// ``confirmed(_:)`` with a single record.
    mutating func confirmed(_ record: PresenceRecord?) {
        confirmed(record.map(UserPresence.init(single:)))
    }
}
