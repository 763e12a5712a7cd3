import NATSClient
import PresenceCore

/// The audit stream's names and its read (SPEC §3c): `presence-audit`, each node's entries
/// sent in batches (``AuditBatch``), one subject per shard of users
/// (`presence-audit.<0…f>`), so one user's entries are read from one shard's messages.
public enum AuditStream {
    /// The stream's name.
    public static let name = "presence-audit"

    /// The subject of `shard`'s batches.
    public static func subject(ofShard shard: Int) -> String {
        name + "." + AuditBatch.shardName(shard)
    }

    /// The subject `user`'s entries are sent on.
    public static func subject(of user: UserID) -> String {
        subject(ofShard: AuditBatch.shard(of: user))
    }

    /// How much earlier than the query's `since` the read starts in the stream: an entry is
    /// stored after it was made (its batch's wait, retries), but the node that made it may
    /// have a clock ahead of the stream's.
    static let clockAllowanceMilliseconds: Int64 = 5_000

    /// Entries matching `query`, in stored order, through `jetStream` (an ephemeral consumer).
    public static func read(_ query: AuditQuery, via jetStream: JetStream) async throws(NATSError) -> AuditPage {
        var start = StreamStart.first
        if let after = query.after {
            start = .sequence(after.sequence)
        } else if let since = query.since,
            let time = nanoseconds(Timestamp(millisecondsSinceEpoch: since.millisecondsSinceEpoch - clockAllowanceMilliseconds))
        {
            start = .time(nanoseconds: time)
        }
        let collected = try await jetStream.scan(
            in: name, subject: query.user.map(subject(of:)) ?? name + ".>", from: start, into: AuditPageCollector(query)
        ) { collector, message in
            collector.add(message)
        }
        return collected.page
    }

    /// `time` as JetStream's start time, in nanoseconds since 1970: nil for 1970 or before
    /// (every entry is later: read from the first; JetStream takes no start time of 0), and
    /// clamped past the year 2262 (nothing stored is that late, as for any future time).
    static func nanoseconds(_ time: Timestamp) -> Int64? {
        guard time.millisecondsSinceEpoch > 0 else { return nil }
        let (product, overflow) = time.millisecondsSinceEpoch.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : product
    }
}
