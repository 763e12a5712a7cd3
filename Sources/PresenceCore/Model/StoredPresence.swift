/// A user's record as a replica keeps it: the encoded public body, plus the few fields that
/// reads, streams and the replica's bookkeeping need without decoding.
///
/// The body is the public view as of the record's last write, valid until ``changesAt`` (a
/// session or message expiring); a read after that recomputes it. A record in the
/// single-record form (``UserPresence/singleRecord``: most users, one plain session) is read
/// back from the body itself, so it costs no more memory than before sessions; any other
/// record also keeps its KV value.
public struct StoredPresence: Sendable, Equatable {
    /// `PresenceJSON.encodeResponse` of the public view as of the last write.
    public internal(set) var responseBody: [UInt8]
    /// The KV value, for records the body does not describe completely.
    let value: [UInt8]?
    /// Whose record.
    public let user: UserID
    /// The KV revision of the entry.
    public let revision: UInt64
    /// The revision public readers see (ETag, stream id): the entry's, or while the user is
    /// invisible the frozen view's.
    public let publicRevision: UInt64
    /// Milliseconds since the epoch from which the body may no longer be right; `Int64.max`
    /// when it stays right.
    var changesAtMillis: Int64
    /// When the record was last written (its newest `updated_at`), in milliseconds since
    /// the epoch: retention counts from here.
    public internal(set) var lastWrittenMillis: Int64
    /// A digest of the public status and message in the body, so streams can tell a change a
    /// reader sees from a heartbeat without decoding.
    private let viewDigest: UInt32
    /// The public status in the body.
    public let status: PresenceStatus
    /// Whether ``heardMillis`` shows in the public body (not while the user is invisible).
    var heardIsPublic: Bool
    /// The latest heartbeat this node heard for the record that its stored value does not
    /// have (SPEC §3a), in milliseconds since the epoch; 0 when none.
    var heardMillis: Int64
    /// The moment this node assumes the record's sessions were alive
    /// (``UserPresence/assumingAlive(since:)``), in milliseconds since the epoch; 0 when none.
    var assumedAliveMillis: Int64

    /// Wraps a record, encoding its public body once.
    /// - Parameters:
    ///   - encodedValue: the record's KV value when the caller has it (saves encoding).
    ///   - heardAt: the latest heartbeat in `record` that its stored value does not have.
    public init(_ record: UserPresence, encodedValue: [UInt8]? = nil, heardAt: Timestamp? = nil) {
        self.init(record, encodedValue: encodedValue, valueIsCanonical: false, heardAt: heardAt)
    }

    /// Decodes a KV value stored under `revision`; nil when it is not a presence record.
    ///
    /// A value in the encoders' exact single-record layout (almost every record) is read by
    /// the fast reader, and its body is the value itself with the revision and session
    /// count added, instead of being encoded again: what a new node's start-up spends most
    /// of its time on, once per record.
    public init?(decoding value: [UInt8], revision: UInt64) {
        guard
            let decoded = CanonicalPresenceJSON.decode(
                value, revision: revision, body: false, fast: { (record: UserPresence(single: $0), isCanonical: true) },
                strict: { UserPresenceJSON.decodeValueStrictly($0, revision: $1).map { (record: $0, isCanonical: false) } })
        else { return nil }
        self.init(decoded.record, encodedValue: value, valueIsCanonical: decoded.isCanonical)
    }

    /// - Parameter valueIsCanonical: `encodedValue` is exactly `PresenceJSON.encodeValue` of
    ///   the record's single record.
    private init(_ record: UserPresence, encodedValue: [UInt8]?, valueIsCanonical: Bool, heardAt: Timestamp? = nil) {
        let view = record.publicView(at: record.lastWritten)
        if valueIsCanonical, let encodedValue, let single = record.singleRecord, view.hasSameFields(as: single) {
            self.responseBody = PresenceJSON.encodeResponse(
                canonicalValue: encodedValue, revision: view.revision, sessions: view.sessions)
        } else {
            self.responseBody = PresenceJSON.encodeResponse(view)
        }
        self.value = record.singleRecord == nil ? (encodedValue ?? UserPresenceJSON.encodeValue(record)) : nil
        self.user = record.userID
        self.revision = record.revision
        self.publicRevision = view.revision
        self.changesAtMillis = record.nextPublicChange(after: record.lastWritten)?.millisecondsSinceEpoch ?? .max
        self.lastWrittenMillis = record.lastWritten.millisecondsSinceEpoch
        self.viewDigest = Self.digest(view)
        self.status = view.status
        self.heardMillis = heardAt?.millisecondsSinceEpoch ?? 0
        self.heardIsPublic = heardAt != nil && !(record.hidden != nil && record.isInvisible(at: record.lastWritten))
        self.assumedAliveMillis =
            record.sessions.compactMap(\.assumedAliveAt).max()?.millisecondsSinceEpoch ?? 0
    }

    /// Wraps a record in the single-record form.
    public init(_ record: PresenceRecord) {
        self.init(UserPresence(single: record))
    }

    /// The record, decoded.
    public var userPresence: UserPresence {
        let decoded =
            if let value {
                UserPresenceJSON.decodeValue(value, revision: revision)
            } else {
                PresenceJSON.decodeValue(responseBody, revision: revision).map(UserPresence.init(single:))
            }
        guard let decoded else {
            // Both were encoded from a record by `init`, and the encoders' output always decodes.
            preconditionFailure("a stored presence does not decode")
        }
        guard assumedAliveMillis != 0 else { return decoded }
        return decoded.assumingAlive(since: Timestamp(millisecondsSinceEpoch: assumedAliveMillis)) ?? decoded
    }

    /// This record as a node that started listening to heartbeats at `floor` reads it
    /// (``UserPresence/assumingAlive(since:)``); nil when that changes nothing. A record in
    /// the single-record form only moves its expiry (its body, the view as of its one
    /// session's write, stays right), so a new node's replica load decodes nothing for it.
    public func assumingAlive(since floor: Timestamp) -> StoredPresence? {
        guard floor.millisecondsSinceEpoch > assumedAliveMillis else { return nil }
        let floorMillis = floor.millisecondsSinceEpoch
        guard value == nil else {
            // Sessions may have expired before the record's last write: only they can tell.
            guard let assumed = userPresence.assumingAlive(since: floor) else { return nil }
            return StoredPresence(assumed, encodedValue: value, heardAt: heardAt)
        }
        // One session: live, alive since `aliveSinceMillis` and expiring `ttl` + 1 ms later;
        // or offline (nothing to expire).
        guard changesAtMillis != .max, lastWrittenMillis < floorMillis else { return nil }
        var copy = self
        copy.changesAtMillis = floorMillis + (changesAtMillis - aliveSinceMillis)
        copy.assumedAliveMillis = floorMillis
        return copy
    }

    /// In the single-record form, the moment its one session counts from: its write, or a
    /// later moment it was assumed alive at. Its expiry (``changesAt``) is `ttl` + 1 ms after.
    var aliveSinceMillis: Int64 { max(lastWrittenMillis, assumedAliveMillis) }

    /// Whether the public view is also the owner's (the single-record form: one visible
    /// session, nothing hidden), so the owner's read can use ``body(at:)``.
    public var publicBodyIsOwnersView: Bool { value == nil }

    /// The stamp of a record that `heartbeat` (heard at that time) moves beyond this one:
    /// the heartbeat's time, but always after this record's own stamp, so every heartbeat
    /// applied gives another `ETag` (heartbeats arrive out of order, and an earlier one may
    /// still change the body, e.g. which session's message shows).
    public func heardStamp(after heartbeat: Timestamp) -> Timestamp {
        guard let heardAt, heardAt >= heartbeat else { return heartbeat }
        return Timestamp(millisecondsSinceEpoch: heardAt.millisecondsSinceEpoch + 1)
    }

    /// The latest heartbeat heard for the record that its stored value does not have, nil
    /// when none: what the owner's view shows beyond the revision (its `ETag`).
    public var heardAt: Timestamp? {
        heardMillis == 0 ? nil : Timestamp(millisecondsSinceEpoch: heardMillis)
    }

    /// ``heardAt`` when it shows in the public body (not while the user is invisible): what
    /// a public `ETag` carries beyond the revision.
    public var publicHeardAt: Timestamp? {
        heardIsPublic ? heardAt : nil
    }

    /// When the body may stop being right by itself, nil when never.
    public var changesAt: Timestamp? {
        changesAtMillis == .max ? nil : Timestamp(millisecondsSinceEpoch: changesAtMillis)
    }

    /// Whether the body is out of date at `now`: a session or message expired since, or
    /// `now` is before the last write (a writer's clock ahead of this node's).
    public func isStale(at now: Timestamp) -> Bool {
        hasChangeDue(at: now) || now.millisecondsSinceEpoch < lastWrittenMillis
    }

    /// The public view at `now`.
    public func publicView(at now: Timestamp) -> PresenceRecord {
        userPresence.publicView(at: now)
    }

    /// Whether a session or message expiry has come by `now` (the sweeper's schedule).
    public func hasChangeDue(at now: Timestamp) -> Bool {
        changesAt.map { ExpiryRule.hasArrived($0, at: now) } ?? false
    }

    /// The revision public readers see at `now` (ETag, stream id).
    public func publicRevision(at now: Timestamp) -> UInt64 {
        isStale(at: now) ? publicView(at: now).revision : publicRevision
    }

    /// The body a public read at `now` returns: the cached bytes, or when stale the freshly
    /// encoded view.
    public func body(at now: Timestamp) -> [UInt8] {
        isStale(at: now) ? PresenceJSON.encodeResponse(publicView(at: now)) : responseBody
    }

    /// A digest of the public status and message at `now`: streams send an event only when it
    /// changes (a 32-bit digest: two different messages collide about once in 4 billion).
    public func viewDigest(at now: Timestamp) -> UInt32 {
        isStale(at: now) ? Self.digest(publicView(at: now)) : viewDigest
    }

    /// Approximate bytes this entry keeps in memory, for the replica's cost bound: the
    /// replica's slot and index entry, the body's allocation, the value's, and a long id's own storage.
    var cost: Int {
        let idBytes = user.rawValue.utf8.count
        return 128 + responseBody.count + (value.map { $0.count + 32 } ?? 0) + (idBytes > 15 ? idBytes + 32 : 0)
    }

    /// FNV-1a over the status and message (stable across runs, unlike `Hasher`).
    private static func digest(_ view: PresenceRecord) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in view.status.rawValue.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        hash = (hash ^ 0xFF) &* 16_777_619
        for byte in view.message.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
