extension StoredPresence {
    /// The record after a heartbeat heard for `session` at `time` from `nodeID`
    /// (``PresenceChange/heartbeat(_:sessionRequired:)``: a live session moves forward, and
    /// nothing else changes); nil when the rule changes nothing (no such session, ended,
    /// offline, expired, or `time` not after its last write or heartbeat).
    ///
    /// Every node applies every heartbeat of every other node, so this is the replica's most
    /// frequent change. A record in the single-record form (most users) takes it without
    /// being decoded: three fields of its body are rewritten in place
    /// (``applyingHeartbeatInPlace(at:nodeID:)``). Any other record is decoded, changed and
    /// encoded again (``applyingHeartbeatByDecoding(session:at:nodeID:)``). Both give the
    /// same record, byte for byte.
    public func applyingHeartbeat(session: SessionID, at time: Timestamp, nodeID: String) -> StoredPresence? {
        if session == .defaultSession, let inPlace = applyingHeartbeatInPlace(at: time, nodeID: nodeID) {
            return inPlace.applied
        }
        return applyingHeartbeatByDecoding(session: session, at: time, nodeID: nodeID)
    }

    /// The record after a heartbeat on its default session at `time` from `nodeID`, when it
    /// is in the single-record form and the heartbeat moves it (its body rewritten in place);
    /// nil otherwise, and the caller takes the general rule. For a node's own heartbeats,
    /// whose plan also answers `If-Match` and absent records.
    public func movedInPlaceByHeartbeat(at time: Timestamp, nodeID: String) -> StoredPresence? {
        applyingHeartbeatInPlace(at: time, nodeID: nodeID)?.applied
    }

    /// The heartbeat rule on the decoded record, encoded again: the definition the in-place
    /// form must agree with.
    func applyingHeartbeatByDecoding(session: SessionID, at time: Timestamp, nodeID: String) -> StoredPresence? {
        let change = PresenceChange.heartbeat(session, sessionRequired: true)
        guard case .write(let refreshed) = change.apply(
            to: userPresence, user: user, now: time, nodeID: nodeID, maxSessions: .max)
        else { return nil }
        return StoredPresence(refreshed, heardAt: heardStamp(after: time))
    }

    /// What ``applyingHeartbeatInPlace(at:nodeID:)`` found.
    struct InPlaceHeartbeat {
        /// The record after the heartbeat; nil when the heartbeat changes nothing.
        var applied: StoredPresence?
    }

    /// The heartbeat on the default session of a record in the single-record form, without
    /// decoding it; nil when the record is not in that form, or its body not in the encoder's
    /// layout (the caller decodes).
    ///
    /// In that form the one session is live until ``changesAt`` (its expiry + 1 ms, counted
    /// from ``aliveSinceMillis``), and was last written or heard at ``lastWrittenMillis``. A
    /// heartbeat moves `last_seen` and `updated_at` to its time and `node_id` to its node;
    /// the status, message, TTL, revision and session count stay, and so do the public
    /// status and message (no stream event).
    func applyingHeartbeatInPlace(at time: Timestamp, nodeID: String) -> InPlaceHeartbeat? {
        guard value == nil else { return nil }
        let timeMillis = time.millisecondsSinceEpoch
        // Offline (no expiry), expired by `time`, or not after the last write: nothing moves.
        guard changesAtMillis != .max, timeMillis < changesAtMillis, timeMillis > lastWrittenMillis else {
            return InPlaceHeartbeat(applied: nil)
        }
        guard let body = Self.bodyWithHeartbeat(responseBody, at: time, nodeID: nodeID) else { return nil }
        var copy = self
        let expiresAfter = changesAtMillis - aliveSinceMillis  // the TTL + 1 ms
        copy.responseBody = body
        copy.lastWrittenMillis = timeMillis
        // An assumption of life the last write had already passed says nothing more (a
        // decoded record drops it too).
        if assumedAliveMillis <= lastWrittenMillis { copy.assumedAliveMillis = 0 }
        copy.changesAtMillis = copy.aliveSinceMillis + expiresAfter
        copy.heardMillis = heardStamp(after: time).millisecondsSinceEpoch
        copy.heardIsPublic = true  // the single-record form is never invisible
        return InPlaceHeartbeat(applied: copy)
    }

    private static let lastSeenKey = Array(#""last_seen":""#.utf8)
    private static let updatedAtKey = Array(#"","updated_at":""#.utf8)
    private static let nodeIDKey = Array(#"","node_id":""#.utf8)
    private static let ttlKey = Array(#"","ttl":"#.utf8)
    private static let timestampBytes = 24

    /// `body` (``PresenceJSON/encodeResponse(_:)``'s layout: `… "last_seen":"T","updated_at":"T",
    /// "node_id":"N","ttl":…`) with both times `time` and the node `nodeID`; nil when it is
    /// not in that layout.
    ///
    /// The first `"last_seen":"` is the key: before it come only the user id and the status,
    /// which cannot hold a quote, and the message, where every quote is escaped (`\"`).
    private static func bodyWithHeartbeat(_ body: [UInt8], at time: Timestamp, nodeID: String) -> [UInt8]? {
        let stamp = Array(time.rfc3339.utf8)
        guard stamp.count == timestampBytes, let lastSeenKeyStart = offset(of: lastSeenKey, in: body, from: 0) else {
            return nil
        }
        let lastSeen = lastSeenKeyStart + lastSeenKey.count
        let updatedAtKeyStart = lastSeen + timestampBytes
        let updatedAt = updatedAtKeyStart + updatedAtKey.count
        let nodeIDKeyStart = updatedAt + timestampBytes
        let node = nodeIDKeyStart + nodeIDKey.count
        guard node <= body.count, body[updatedAtKeyStart...].starts(with: updatedAtKey),
            body[nodeIDKeyStart...].starts(with: nodeIDKey),
            let nodeEnd = offset(of: ttlKey, in: body, from: node),
            // The rule keeps a later `last_seen` (a value no version writes, but one could be
            // imported): such a record leaves the single-record form, so it is decoded. Times
            // of one fixed width compare as their bytes do.
            !stamp.lexicographicallyPrecedes(body[lastSeen..<(lastSeen + timestampBytes)])
        else { return nil }
        var out = [UInt8]()
        var escapedNode = [UInt8]()
        JSONString.append(nodeID, to: &escapedNode)  // with its quotes
        let newNode = escapedNode.dropFirst().dropLast()
        out.reserveCapacity(body.count - (nodeEnd - node) + newNode.count)
        out.append(contentsOf: body[..<lastSeen])
        out.append(contentsOf: stamp)
        out.append(contentsOf: updatedAtKey)
        out.append(contentsOf: stamp)
        out.append(contentsOf: nodeIDKey)
        out.append(contentsOf: newNode)
        out.append(contentsOf: body[nodeEnd...])
        return out
    }

    /// Where `key` first occurs in `body` at or after `start`. A plain loop on purpose: the
    /// standard library's `firstRange(of:)` runs unspecialized on bytes (generic metadata
    /// look-ups at every step) and made a heartbeat heard from another node cost 6× the CPU.
    private static func offset(of key: [UInt8], in body: [UInt8], from start: Int) -> Int? {
        guard let first = key.first, start >= 0, start <= body.count - key.count else { return nil }
        return (start...(body.count - key.count)).first { body[$0] == first && body[$0...].starts(with: key) }
    }
}
