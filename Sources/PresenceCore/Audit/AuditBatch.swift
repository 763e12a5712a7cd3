/// Audit entries as the stream stores them (SPEC §3c): several entries in one message, one
/// JSON object a line, on the subject of their shard.
///
/// A message per entry costs the stream one fsynced write per change, as much as the change
/// itself: a node gathers its entries for ``AuditBatcher``'s interval and sends one message per
/// shard instead. Users are spread over ``shardCount`` shards by a hash of their id that never
/// changes, so one user's entries are read from one shard's messages, a sixteenth of the stream.
public struct AuditBatch: Sendable, Equatable {
    /// How many shards the users are spread over; the stream's subjects end in `0`…`f`.
    public static let shardCount = 16

    /// The shard of every entry in the batch.
    public var shard: Int
    /// The entries, in the order they were accepted.
    public var entries: [AuditEntry]

    public init(shard: Int, entries: [AuditEntry]) {
        self.shard = shard
        self.entries = entries
    }

    /// The shard of `user`'s entries: FNV-1a over the id's UTF-8 bytes, so every node and
    /// every version agrees on it (Swift's `Hasher` is seeded anew in each process).
    public static func shard(of user: UserID) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in user.rawValue.utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return Int(hash % UInt32(shardCount))
    }

    /// The name of `shard` in a subject: one lowercase hex digit.
    public static func shardName(_ shard: Int) -> String {
        String(shard, radix: 16)
    }

    /// The batch as stored messages of at most `maxBytes` each (an entry larger than that
    /// alone in its message): each entry's JSON object on a line of its own, in order, with
    /// how many entries each message holds.
    public func encoded(maxBytes: Int) -> [(payload: [UInt8], entries: Int)] {
        var messages: [(payload: [UInt8], entries: Int)] = []
        var message: [UInt8] = []
        var count = 0
        for entry in entries {
            let line = entry.encoded()
            if count > 0, message.count + line.count + 1 > maxBytes {
                messages.append((message, count))
                message = []
                count = 0
            }
            message.append(contentsOf: line)
            message.append(UInt8(ascii: "\n"))
            count += 1
        }
        if count > 0 { messages.append((message, count)) }
        return messages
    }

    /// The entries of a stored message, each one JSON object as ``AuditEntry/encoded()`` wrote
    /// it (empty lines skipped): a batch, or one entry alone as a restore may append it.
    public static func lines(of payload: [UInt8]) -> [ArraySlice<UInt8>] {
        payload.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    }
}
