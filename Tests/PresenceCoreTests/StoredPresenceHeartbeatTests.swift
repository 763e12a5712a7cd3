import Testing
@testable import PresenceCore

/// A heartbeat applied in place (the single-record form's body rewritten, nothing decoded)
/// gives exactly the record the heartbeat rule gives on the decoded record.
struct StoredPresenceHeartbeatTests {
    private static let messages = ["", "hello", #"a "quoted" \ message"#, #"","last_seen":"x"#, "naïve ☕️", "\u{1}"]
    private static let nodes = ["node-1", "leaf-2", "a-much-longer-node-name-than-the-others", "n"]

    /// A record in the single-record form as a replica holds it: from a write, or decoded
    /// from its KV value (the canonical reader), maybe assumed alive at one or two floors.
    private static func held(_ random: inout SplitMix64) -> StoredPresence {
        let status = [PresenceStatus.online, .away, .busy, .offline].randomElement(using: &random) ?? .online
        let written = at(t0, plusMillis: Int64.random(in: 0...5_000, using: &random))
        let single = record(
            "user-\(random.next() % 1000)", status: status,
            message: status == .offline ? "" : messages.randomElement(using: &random) ?? "",
            lastSeen: written, updatedAt: written, nodeID: nodes.randomElement(using: &random) ?? "n",
            ttl: Int.random(in: 1...30, using: &random), revision: UInt64.random(in: 1...100_000, using: &random))
        var stored =
            Bool.random(using: &random)
            ? StoredPresence(single)
            : StoredPresence(decoding: PresenceJSON.encodeValue(single), revision: single.revision) ?? StoredPresence(single)
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            let floor = at(written, plusMillis: Int64.random(in: -2_000...20_000, using: &random))
            stored = stored.assumingAlive(since: floor) ?? stored
        }
        return stored
    }

    @Test func inPlaceAndDecodedGiveTheSameRecord() throws {
        var random = SplitMix64(seed: 25)
        var inPlace = 0
        var ignored = 0
        for _ in 0..<3_000 {
            var stored = Self.held(&random)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                // Around the last write and around the expiry, to the millisecond.
                let anchor = Bool.random(using: &random) ? stored.lastWrittenMillis : (stored.changesAt?.millisecondsSinceEpoch ?? 0)
                let time = Timestamp(millisecondsSinceEpoch: max(anchor, stored.lastWrittenMillis - 3)
                    + Int64.random(in: -3...3_000, using: &random))
                let node = Self.nodes.randomElement(using: &random) ?? "n"
                let expected = stored.applyingHeartbeatByDecoding(session: .defaultSession, at: time, nodeID: node)
                let fast = try #require(stored.applyingHeartbeatInPlace(at: time, nodeID: node), "a single-record form")
                #expect(fast.applied == expected, "\(stored.responseBody) at \(time) from \(node)")
                if let applied = fast.applied {
                    inPlace += 1
                    #expect(applied.userPresence == expected?.userPresence)
                    stored = applied
                } else {
                    ignored += 1
                }
            }
        }
        #expect(inPlace > 1_000 && ignored > 500, "both outcomes were tried: \(inPlace) applied, \(ignored) ignored")
    }

    @Test func aRecordNotInTheSingleRecordFormIsDecoded() throws {
        var presence = UserPresence(single: record(status: .online))
        presence.sessions[0].device = "phone"  // a device label: not the single-record form
        let stored = StoredPresence(presence)
        #expect(stored.applyingHeartbeatInPlace(at: at(t0, plusMillis: 100), nodeID: "b") == nil)
        let refreshed = try #require(stored.applyingHeartbeat(session: .defaultSession, at: at(t0, plusMillis: 100), nodeID: "b"))
        #expect(refreshed.userPresence.sessions[0].updatedAt == at(t0, plusMillis: 100))
        #expect(refreshed.userPresence.sessions[0].device == "phone")
    }

    /// A stored `last_seen` later than `updated_at` (imported; no version writes one): the
    /// rule keeps it, so the record is decoded rather than rewritten.
    @Test func aLastSeenLaterThanTheHeartbeatIsKept() throws {
        let value = PresenceJSON.encodeValue(record(status: .online, lastSeen: at(t0, plusMillis: 5_000), updatedAt: t0))
        let stored = try #require(StoredPresence(decoding: value, revision: 3))
        let time = at(t0, plusMillis: 1_000)
        #expect(stored.applyingHeartbeatInPlace(at: time, nodeID: "b") == nil)
        let refreshed = try #require(stored.applyingHeartbeat(session: .defaultSession, at: time, nodeID: "b"))
        #expect(refreshed == stored.applyingHeartbeatByDecoding(session: .defaultSession, at: time, nodeID: "b"))
        #expect(refreshed.publicView(at: time).lastSeen == at(t0, plusMillis: 5_000))
    }

    @Test func anotherSessionOfASingleRecordIsNotThere() {
        let stored = StoredPresence(record(status: .online))
        #expect(stored.applyingHeartbeat(session: sid("phone"), at: at(t0, plusMillis: 100), nodeID: "b") == nil)
    }

    /// A second floor counts the TTL from itself, not from the first floor's expiry.
    @Test func aSecondFloorDoesNotStretchTheExpiry() throws {
        let stored = StoredPresence(record(status: .online, ttl: 10))
        let first = try #require(stored.assumingAlive(since: at(t0, plusMillis: 4_000)))
        #expect(first.changesAt == at(t0, plusMillis: 14_001))
        let second = try #require(first.assumingAlive(since: at(t0, plusMillis: 6_000)))
        #expect(second.changesAt == at(t0, plusMillis: 16_001))
        #expect(second.publicView(at: at(t0, plusMillis: 16_000)).status == .online)
        #expect(second.publicView(at: at(t0, plusMillis: 16_001)).status == .offline)
    }
}
