import NATSClient
import PresenceCore

/// The audit stream's names and its read (SPEC §3c): `presence-audit`, one subject per user
/// (`presence-audit.<the user's KV key>`), so one user's entries are read without the others'.
public enum AuditStream {
    /// The stream's name.
    public static let name = "presence-audit"

    /// The subject of `user`'s entries.
    public static func subject(of user: UserID) -> String {
        name + "." + UserKeyCodec.key(for: user)
    }

    /// Entries matching `query`, oldest first, through `jetStream` (an ephemeral consumer).
    public static func read(_ query: AuditQuery, via jetStream: JetStream) async throws(NATSError) -> AuditPage {
        let (messages, more) = try await jetStream.messages(
            in: name, subject: query.user.map(subject(of:)) ?? name + ".>",
            sinceNanoseconds: query.since.flatMap(nanoseconds), limit: query.limit)
        return AuditPage(entries: messages.map(\.payload), more: more)
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
