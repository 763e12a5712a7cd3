import Foundation
import NATSClient
import PresenceCore
import PresenceStore

/// `presence audit`: reads the audit trail through the center running on a data directory (its
/// loopback NATS and the credential in `nats-client.url`), as `presence backup` reads the bucket.
public enum AuditTrailReader {
    /// Entries matching `query`, oldest first, from the center of `configuration`.
    public static func read(_ query: AuditQuery, _ configuration: NodeConfiguration) async throws -> AuditPage {
        let url = try await BucketBackup.clientURL(dataDirectory: configuration.dataDirectory)
        let connection = try await NATSConnection.connect(options: .init(urls: [url], name: "presence-audit-reader"))
        do {
            let page = try await AuditStream.read(query, via: connection.jetStream(domain: nil, timeout: .seconds(5)))
            await connection.close()
            return page
        } catch {
            await connection.close()
            throw BucketBackup.Failure(
                description: "cannot read the audit stream through the center on \(configuration.dataDirectory): \(error)")
        }
    }

    /// A `--since` value: a duration back from `now` (`90s`, `15m`, `1h`, `7d`) or an RFC 3339 time.
    public static func since(_ text: String, now: Timestamp = .now()) -> Timestamp? {
        if let time = RFC3339.parse(text) { return time }
        guard let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Int64? =
            switch unit {
            case "s": 1
            case "m": 60
            case "h": 3600
            case "d": 86_400
            default: nil
            }
        guard let seconds, amount <= 100 * 365 * 86_400 / seconds else { return nil }
        return Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - amount * seconds * 1000)
    }
}
