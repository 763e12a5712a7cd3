import Foundation
import Testing
@testable import PresenceCore

@Suite("PresenceJSON encoding and decoding")
struct PresenceJSONTests {
    static let fields: Set<String> = ["user_id", "status", "message", "last_seen", "updated_at", "node_id", "ttl", "revision", "sessions"]

    func parse(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(object as? [String: Any], sourceLocation: sourceLocation)
    }

    @Test func responseHasExactlyTheSpecFields() throws {
        let rec = record(
            "alice", status: .busy, message: "In a meeting", lastSeen: t0, updatedAt: at(t0, plusMillis: 123),
            nodeID: "leaf-eu-1", ttl: 300, revision: 42)
        let json = try parse(PresenceJSON.encodeResponse(rec))
        #expect(Set(json.keys) == Self.fields)
        #expect(json["user_id"] as? String == "alice")
        #expect(json["status"] as? String == "busy")
        #expect(json["message"] as? String == "In a meeting")
        #expect(json["last_seen"] as? String == "2026-11-21T10:00:00.000Z")
        #expect(json["updated_at"] as? String == "2026-11-21T10:00:00.123Z")
        #expect(json["node_id"] as? String == "leaf-eu-1")
        #expect((json["ttl"] as? NSNumber)?.intValue == 300)
        #expect((json["revision"] as? NSNumber)?.uint64Value == 42)
    }

    @Test func exactResponseBytes() {
        let rec = record(
            "alice", status: .busy, message: "In a meeting", lastSeen: t0, updatedAt: t0, nodeID: "leaf-eu-1",
            ttl: 300, revision: 42)
        let text = String(decoding: PresenceJSON.encodeResponse(rec), as: UTF8.self)
        #expect(
            text
                == #"{"user_id":"alice","status":"busy","message":"In a meeting","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","node_id":"leaf-eu-1","ttl":300,"revision":42,"sessions":1}"#
        )
    }

    @Test func valueHasNoRevision() throws {
        let json = try parse(PresenceJSON.encodeValue(record(revision: 9)))
        #expect(Set(json.keys) == Self.fields.subtracting(["revision", "sessions"]))
    }

    @Test func largestRevisionIsWrittenExactly() {
        let text = String(decoding: PresenceJSON.encodeResponse(record(revision: .max)), as: UTF8.self)
        #expect(text.hasSuffix(#","revision":18446744073709551615,"sessions":1}"#))
    }

    @Test("strings are escaped and round-trip", arguments: [
        "",
        "plain",
        #"He said "hi""#,
        #"back\slash \\ double"#,
        #"\"#,
        #"""#,
        "josé 用户 Ωμέγα 😀 👨\u{200D}👩\u{200D}👧",
        "line\u{2028}separator\u{2029}",
        "</script><script>alert(1)</script>",
        "tab\tnewline\ncr\rnul\u{0}bell\u{7}esc\u{1B}unit\u{1F}del\u{7F}c1\u{85}",
        "{\"user_id\":\"mallory\"}",
    ])
    func stringRoundTrip(text: String) throws {
        // Messages never hold control characters (validation), but node ids come from config and the
        // encoder must be correct for any string.
        let rec = record("a.b@c+d:e=f", message: text, nodeID: text, revision: 1)
        let json = try parse(PresenceJSON.encodeResponse(rec))
        #expect(json["message"] as? String == text)
        #expect(json["node_id"] as? String == text)
        #expect(json["user_id"] as? String == "a.b@c+d:e=f")
        #expect(Set(json.keys) == Self.fields)

        var out = [UInt8]()
        JSONString.append(text, to: &out)
        let decoded = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
        #expect(decoded == text)
        // Raw control bytes never appear in the output.
        #expect(!out.contains { $0 < 0x20 })
    }

    @Test func valueRoundTrip() {
        var rng = SplitMix64(seed: 99)
        let statuses = PresenceStatus.allCases
        let messages = ["", "In a meeting", #"quote " and \ backslash"#, "😀 josé", String(repeating: "用", count: 256)]
        for index in 0..<500 {
            let rec = PresenceRecord(
                userID: uid("user\(index)@example.com"),
                status: statuses.randomElement(using: &rng)!,
                message: messages.randomElement(using: &rng)!,
                lastSeen: Timestamp(millisecondsSinceEpoch: Int64.random(in: -1_000_000_000_000...4_000_000_000_000, using: &rng)),
                updatedAt: Timestamp(millisecondsSinceEpoch: Int64.random(in: 0...4_000_000_000_000, using: &rng)),
                nodeID: ["", "center", "leaf-eu-1"].randomElement(using: &rng)!,
                ttl: Int.random(in: 10...86_400, using: &rng),
                revision: UInt64.random(in: 1...UInt64.max, using: &rng))
            #expect(PresenceJSON.decodeValue(PresenceJSON.encodeValue(rec), revision: rec.revision) == rec)
        }
    }

    @Test func decodeTakesTheRevisionFromTheEntry() throws {
        let rec = record(revision: 5)
        let decoded = try #require(PresenceJSON.decodeValue(PresenceJSON.encodeValue(rec), revision: 77))
        #expect(decoded.revision == 77)
        var expected = rec
        expected.revision = 77
        #expect(decoded == expected)
    }

    @Test func decodeDefaultsOptionalFields() throws {
        let value = #"{"user_id":"bob","status":"away","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":60}"#
        let decoded = try #require(PresenceJSON.decodeValue(Array(value.utf8), revision: 3))
        #expect(decoded.message == "")
        #expect(decoded.nodeID == "")
        #expect(decoded.status == .away)
        #expect(decoded.ttl == 60)
        #expect(decoded.lastSeen == t0)
    }

    @Test("decoding foreign or broken values gives nil", arguments: [
        "",
        "not json",
        "[]",
        "null",
        #"{"user_id":"bob"}"#,
        #"{"user_id":"bad id","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":60}"#,
        #"{"user_id":"bob","status":"sleeping","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":60}"#,
        #"{"user_id":"bob","status":"online","last_seen":"yesterday","updated_at":"2026-11-21T10:00:00.000Z","ttl":60}"#,
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00Z","ttl":60}"#,
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z"}"#,
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":"60"}"#,
        // A ttl whose expiry arithmetic would overflow, or a negative one.
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":-10000000000000000}"#,
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":9223372036854775807}"#,
        #"{"user_id":"bob","status":"online","last_seen":"2026-11-21T10:00:00.000Z","updated_at":"2026-11-21T10:00:00.000Z","ttl":-1}"#,
    ])
    func decodeRejects(value: String) {
        #expect(PresenceJSON.decodeValue(Array(value.utf8), revision: 1) == nil)
    }
}
