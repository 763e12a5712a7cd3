import ArgumentParser
import Foundation
import PresenceCore
import PresenceNode

/// `presence audit`: the audit trail (SPEC §3c), read through the center running on this
/// data directory; one line per entry, oldest first (`--json`: the entries as stored).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print the audit trail (every accepted change), through the center running on this data directory.")

    @Option(help: "Only this user's entries.") var user: String?
    @Option(help: "From this long ago (90s, 15m, 1h, 7d) or this RFC 3339 time on.") var since: String?
    @Option(help: "Go on after an earlier page: the position it printed last (e.g. 1523.4).") var after: String?
    @Option(help: "At most this many entries (1 to \(AuditQuery.maxLimit)).") var limit = 100
    @Flag(help: "Print each entry as the JSON object stored.") var json = false
    @OptionGroup var center: RunningCenterOptions

    func run() async throws {
        let user: UserID?
        do {
            user = try self.user.map { (raw: String) throws(PresenceError) in try UserID(validating: raw) }
        } catch {
            CommandSupport.fail("--user: \(error.message)", exitCode: 2)
        }
        var since: Timestamp?
        if let text = self.since {
            guard let time = AuditTrailReader.since(text) else {
                CommandSupport.fail("--since: '\(text)' is neither a duration (90s, 15m, 1h, 7d) nor an RFC 3339 time", exitCode: 2)
            }
            since = time
        }
        var cursor: AuditCursor?
        if let text = after {
            guard let parsed = AuditCursor(text) else {
                CommandSupport.fail("--after: '\(text)' is not a position printed by an earlier page (e.g. 1523.4)", exitCode: 2)
            }
            cursor = parsed
        }
        guard (1...AuditQuery.maxLimit).contains(limit) else {
            CommandSupport.fail("--limit: from 1 to \(AuditQuery.maxLimit)", exitCode: 2)
        }
        let configuration = try center.configuration()
        do {
            let query = AuditQuery(user: user, since: since, after: cursor, limit: limit)
            let page = try await AuditTrailReader.read(query, configuration)
            for entry in page.entries { print(json ? String(decoding: entry, as: UTF8.self) : Self.line(entry)) }
            if page.more, let next = page.next { print("… more entries may follow: ask again with --after \(next)") }
        } catch {
            CommandSupport.fail("\(error)", exitCode: 1)
        }
    }

    /// One entry as a line: time, user/session, change, status before → after, who, where.
    static func line(_ entry: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(entry)) as? [String: Any] else {
            return String(decoding: entry, as: UTF8.self)
        }
        func text(_ key: String) -> String { object[key].map { "\($0)" } ?? "-" }
        let by = object["by"] as? [String: Any] ?? [:]
        let who = (by["sub"] as? String).map { "sub=\($0)" } ?? (by["system"] as? String).map { "system=\($0)" } ?? "-"
        var line = "\(text("time")) \(text("user"))"
        if let session = object["session"] as? String { line += "/\(session)" }
        line += " \(text("change")) \(text("status_before"))→\(text("status_after"))"
        if object["message_changed"] as? Bool == true { line += " message changed" }
        line += " by \(who)"
        if let scope = by["scope"] as? String, !scope.isEmpty { line += " scope=\"\(scope)\"" }
        line += " node=\(text("node_id")) revision=\(text("revision"))"
        if let request = object["request_id"] as? String { line += " request=\(request)" }
        return line
    }
}
