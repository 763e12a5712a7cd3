import Foundation
import Testing

@testable import PresenceCore

/// What an audit entry records of a change (SPEC §3c), as a pure rule.
@Suite("Audit entries")
struct AuditEntryTests {
    let now = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)
    let user = try! UserID(validating: "alice")

    func record(_ status: PresenceStatus, _ message: String, revision: UInt64) throws -> UserPresence {
        let change = PresenceChange.set(.defaultSession, .init(status: status, message: message, ttl: 60))
        guard case .write(let written) = change.apply(to: nil, user: user, now: now, nodeID: "n", maxSessions: 4) else {
            throw CancellationError()
        }
        return written.stored(at: revision)
    }

    @Test func heartbeatsAreNotChanges() throws {
        let after = try record(.online, "", revision: 2)
        for heartbeat in [PresenceChange.heartbeat, .heartbeat(.defaultSession, sessionRequired: true)] {
            #expect(
                AuditEntry(
                    change: heartbeat, before: after, after: after, actor: nil, nodeID: "n", at: now,
                    keepInvisibleMessages: false) == nil)
        }
    }

    @Test func anInvisibleUsersMessageIsKeptOnlyWhenConfigured() throws {
        let before = try record(.online, "hello", revision: 1)
        let after = try record(.invisible, "hidden", revision: 2)
        let change = PresenceChange.set(.defaultSession, .init(status: .invisible, message: "hidden", ttl: 60))
        let hidden = try #require(
            AuditEntry(change: change, before: before, after: after, actor: nil, nodeID: "n", at: now, keepInvisibleMessages: false))
        #expect(hidden.message == nil && hidden.messageChanged && hidden.statusBefore == .online && hidden.statusAfter == .invisible)
        #expect(!String(decoding: hidden.encoded(), as: UTF8.self).contains("hidden"))
        let kept = try #require(
            AuditEntry(change: change, before: before, after: after, actor: nil, nodeID: "n", at: now, keepInvisibleMessages: true))
        #expect(kept.message == "hidden")
    }

    @Test func theEncodedEntryNamesWhoAndWhat() throws {
        let after = try record(.busy, "in a \"meeting\"", revision: 7)
        let actor = AuditActor(subject: "alice", issuer: "https://idp", scopes: ["a", "presence:admin"], requestID: "r-9")
        let entry = try #require(
            AuditEntry(
                change: .set(.defaultSession, .init(status: .busy, message: "x", ttl: 60)), before: nil, after: after,
                actor: actor, nodeID: "leaf-1", at: now, keepInvisibleMessages: false))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(entry.encoded())) as? [String: Any])
        #expect(json["user"] as? String == "alice" && json["session"] as? String == "default")
        #expect(json["status_before"] as? String == "none" && json["status_after"] as? String == "busy")
        #expect(json["message"] as? String == "in a \"meeting\"" && json["message_changed"] as? Bool == true)
        #expect(json["node_id"] as? String == "leaf-1" && json["request_id"] as? String == "r-9" && json["revision"] as? Int == 7)
        #expect(json["time"] as? String == "2026-11-21T10:00:00.000Z")
        let by = try #require(json["by"] as? [String: Any])
        #expect(by["sub"] as? String == "alice" && by["iss"] as? String == "https://idp" && by["scope"] as? String == "a presence:admin")
        let swept = try #require(
            AuditEntry(change: .expire, before: after, after: after, actor: nil, nodeID: "center", at: now, keepInvisibleMessages: false))
        let sweptJSON = try #require(try JSONSerialization.jsonObject(with: Data(swept.encoded())) as? [String: Any])
        #expect((sweptJSON["by"] as? [String: Any])?["system"] as? String == "expiry sweeper")
        #expect(sweptJSON["session"] == nil && sweptJSON["request_id"] == nil)
    }
}
