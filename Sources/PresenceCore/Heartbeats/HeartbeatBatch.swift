/// One message of the heartbeat plane (SPEC §3a): the heartbeats one node accepted during one
/// batch period, as compact text that `nats sub` shows readably.
///
/// ```
/// presence-heartbeats 1 <base ms since the epoch> <node id>
/// <user id> <session id> <ms after base>
/// …
/// ```
///
/// User and session ids never contain a space or a line break (``UserID``, ``SessionID``);
/// the node id is the rest of the first line. Decoding validates every id and time as a
/// write would: a line that is not a heartbeat is skipped and counted, a message whose
/// first line is not this format is refused whole.
public struct HeartbeatBatch: Sendable, Equatable {
    /// One heartbeat: a session of a user, refreshed at a time.
    public struct Heartbeat: Sendable, Equatable {
        public var user: UserID
        public var session: SessionID
        public var time: Timestamp

        public init(user: UserID, session: SessionID, time: Timestamp) {
            self.user = user
            self.session = session
            self.time = time
        }
    }

    /// The core NATS subject of a bucket's heartbeats: every node publishes and subscribes to
    /// it; a leaf's permissions on its center allow exactly this one beside the bucket's.
    public static func subject(bucket: String) -> String { "presence.heartbeats.\(bucket)" }

    /// The node that accepted the heartbeats.
    public var nodeID: String
    /// The heartbeats, in no particular order.
    public var heartbeats: [Heartbeat]

    /// The first word of every batch.
    static let magic = "presence-heartbeats"
    /// The format's version; a batch of another version is refused whole.
    static let version = 1
    /// The latest a heartbeat may be after its batch's base time: a batch covers one period.
    public static let maxSpanMillis: Int64 = 60_000
    /// The longest node id a batch may carry, in bytes.
    static let maxNodeIDBytes = 128
    /// The latest base time a batch may have (9999-12-31T23:59:59.999Z): a forged one cannot
    /// make a time overflow.
    static let maxBaseMillis: Int64 = 253_402_300_799_999

    public init(nodeID: String, heartbeats: [Heartbeat]) {
        self.nodeID = nodeID
        self.heartbeats = heartbeats
    }

    /// The batch as a message payload.
    public func encoded() -> [UInt8] {
        let base = heartbeats.map(\.time.millisecondsSinceEpoch).min() ?? 0
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + heartbeats.count * 32)
        let node = nodeID.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
        bytes.append(contentsOf: "\(Self.magic) \(Self.version) \(base) ".utf8)
        bytes.append(contentsOf: node)
        bytes.append(0x0A)
        for heartbeat in heartbeats {
            bytes.append(contentsOf: heartbeat.user.rawValue.utf8)
            bytes.append(0x20)
            bytes.append(contentsOf: heartbeat.session.rawValue.utf8)
            bytes.append(0x20)
            bytes.append(contentsOf: String(heartbeat.time.millisecondsSinceEpoch - base).utf8)
            bytes.append(0x0A)
        }
        return bytes
    }

    /// What decoding a payload found.
    public struct Decoded: Sendable, Equatable {
        /// The batch, with every valid heartbeat.
        public var batch: HeartbeatBatch
        /// Lines that were not a valid heartbeat.
        public var skippedLines: Int
    }

    /// Decodes a payload; nil when it is not a heartbeat batch of this version.
    public static func decode(_ payload: [UInt8]) -> Decoded? {
        var lines = payload.split(separator: 0x0A, omittingEmptySubsequences: true)[...]
        guard let header = lines.popFirst() else { return nil }
        let fields = header.split(separator: 0x20, maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0].elementsEqual(magic.utf8), fields[1].elementsEqual(String(version).utf8),
            let base = Int64(String(decoding: fields[2], as: UTF8.self)), (0...maxBaseMillis).contains(base)
        else { return nil }
        // It becomes records' `node_id`: bounded, no control characters.
        guard fields[3].count <= maxNodeIDBytes, !fields[3].contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        let nodeID = String(decoding: fields[3], as: UTF8.self)
        var heartbeats: [Heartbeat] = []
        heartbeats.reserveCapacity(lines.count)
        var skipped = 0
        for line in lines {
            guard let heartbeat = Self.heartbeat(line, base: base) else {
                skipped += 1
                continue
            }
            heartbeats.append(heartbeat)
        }
        return Decoded(batch: HeartbeatBatch(nodeID: nodeID, heartbeats: heartbeats), skippedLines: skipped)
    }

    private static func heartbeat(_ line: ArraySlice<UInt8>, base: Int64) -> Heartbeat? {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].count <= 6, parts[2].allSatisfy({ (0x30...0x39).contains($0) }),
            let offset = Int64(String(decoding: parts[2], as: UTF8.self)), offset <= maxSpanMillis,
            let user = try? UserID(validating: String(decoding: parts[0], as: UTF8.self)),
            let session = try? SessionID(validating: String(decoding: parts[1], as: UTF8.self))
        else { return nil }
        return Heartbeat(user: user, session: session, time: Timestamp(millisecondsSinceEpoch: base + offset))
    }
}
