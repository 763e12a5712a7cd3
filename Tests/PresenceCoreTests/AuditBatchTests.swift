import Foundation
import Testing

@testable import PresenceCore

/// How audit entries are batched for the stream (SPEC §3c): the shard of a user never changes,
/// a batch is one JSON object a line, and the batcher groups by shard and falls due in time.
@Suite("Audit batches")
struct AuditBatchTests {
    let now = Timestamp(millisecondsSinceEpoch: 1_795_255_200_000)

    func entry(_ user: String, revision: UInt64, message: String = "") throws -> AuditEntry {
        let id = try UserID(validating: user)
        let change = PresenceChange.set(.defaultSession, .init(status: .online, message: message, ttl: 60))
        guard case .write(let written) = change.apply(to: nil, user: id, now: now, nodeID: "n", maxSessions: 4),
            let entry = AuditEntry(
                change: change, before: nil, after: written.stored(at: revision), actor: nil, nodeID: "n", at: now,
                keepInvisibleMessages: false)
        else { throw CancellationError() }
        return entry
    }

    @Test func aUsersShardIsFixedAndTheShardsAreAllUsed() throws {
        // FNV-1a 32 of "alice" is 0x872213e7, of "bob" 0x86c6a0d4: the same on every node and
        // in every version (the stream's subjects depend on it), so pinned here.
        #expect(AuditBatch.shard(of: try UserID(validating: "alice")) == 7)
        #expect(AuditBatch.shard(of: try UserID(validating: "bob")) == 4)
        #expect(AuditBatch.shard(of: try UserID(validating: "alice")) == Int(fnv1a("alice") % 16))
        #expect(AuditBatch.shard(of: try UserID(validating: "alice")) == AuditBatch.shard(of: try UserID(validating: "alice")))
        var used = Set<Int>()
        for index in 0..<400 { used.insert(AuditBatch.shard(of: try UserID(validating: "user-\(index)"))) }
        #expect(used == Set(0..<16))
        #expect((0..<16).map(AuditBatch.shardName).joined() == "0123456789abcdef")
    }

    /// The reference FNV-1a, written out from its definition.
    func fnv1a(_ text: String) -> UInt32 {
        text.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
    }

    @Test func aBatchIsOneEntryALineAndSplitsByBytes() throws {
        let entries = try (1...5).map { try entry("alice", revision: UInt64($0), message: String(repeating: "x", count: 100)) }
        let batch = AuditBatch(shard: 3, entries: entries)
        let whole = batch.encoded(maxBytes: 1 << 20)
        #expect(whole.count == 1 && whole[0].entries == 5)
        let lines = AuditBatch.lines(of: whole[0].payload)
        #expect(lines.map { Array($0) } == entries.map { $0.encoded() })
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            #expect(object?["user"] as? String == "alice")
        }
        // Two entries fit in a message of 2.5 entries' size: 2 + 2 + 1, in order.
        let size = entries[0].encoded().count + 1
        let split = batch.encoded(maxBytes: size * 5 / 2)
        #expect(split.map(\.entries) == [2, 2, 1])
        #expect(split.flatMap { AuditBatch.lines(of: $0.payload).map { Array($0) } } == entries.map { $0.encoded() })
        // An entry larger than the limit goes alone rather than never.
        #expect(batch.encoded(maxBytes: 10).map(\.entries) == [1, 1, 1, 1, 1])
        #expect(AuditBatch.lines(of: Array("\n\n{}\n".utf8)).count == 1)
    }

    @Test func theBatcherGroupsByShardKeepsOrderAndSaysWhenAShardIsFull() throws {
        var batcher = AuditBatcher(interval: .milliseconds(100), maxEntries: 3)
        #expect(batcher.take().isEmpty)
        let users = ["alice", "bob", "carol", "dave", "erin"]
        var made: [AuditEntry] = []
        for (index, user) in users.enumerated() {
            let entry = try entry(user, revision: UInt64(index + 1))
            made.append(entry)
            #expect(batcher.add(entry) == false)
        }
        #expect(batcher.count == 5)
        let batches = batcher.take()
        #expect(batcher.count == 0)
        #expect(batches.reduce(0) { $0 + $1.entries.count } == 5)
        for batch in batches {
            #expect(batch.entries.allSatisfy { AuditBatch.shard(of: $0.user) == batch.shard })
            #expect(batch.entries.map(\.revision) == batch.entries.map(\.revision).sorted())
        }
        #expect(Set(batches.map(\.shard)).count == batches.count, "one batch a shard")

        // A shard holding maxEntries is due at once; a take splits it into full batches.
        for revision in 1...3 { _ = batcher.add(try entry("alice", revision: UInt64(revision))) }
        #expect(batcher.count == 3)
        var full = AuditBatcher(interval: .seconds(1), maxEntries: 3)
        #expect(full.add(try entry("alice", revision: 1)) == false)
        #expect(full.add(try entry("alice", revision: 2)) == false)
        #expect(full.add(try entry("alice", revision: 3)) == true)
        _ = full.add(try entry("alice", revision: 4))
        #expect(full.take().map { $0.entries.map(\.revision) } == [[1, 2, 3], [4]])
    }
}
