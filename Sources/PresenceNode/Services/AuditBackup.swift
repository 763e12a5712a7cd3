import EmbeddedNATS
import Foundation
import NATSClient
import NIOPosix
import PresenceCore
import PresenceStore

/// The audit stream's part of `presence backup` and `presence restore`: `presence-audit.jsonl`
/// in the backup directory, one entry per line as the stream stores it, oldest first.
///
/// A restore appends the entries only to an audit stream that holds none (a restore into a
/// new cluster): appended to a trail that went on meanwhile, they would come after newer
/// entries and twice over on a second restore. Each entry keeps its `time`; the stream counts
/// its retention from the restore.
enum AuditBackup {
    /// The entries file in a backup directory.
    static func entriesPath(_ directory: String) -> String { directory + "/presence-audit.jsonl" }

    /// Writes every entry of the audit stream into `directory` (a stream that does not exist
    /// has none).
    /// - Returns: how many were written.
    static func backup(through js: JetStream, into directory: String) async throws -> Int {
        let entries = try await allEntries(through: js)
        var text = ""
        for entry in entries { text += String(decoding: entry, as: UTF8.self) + "\n" }
        try await NIOThreadPool.singleton.runIfActive { [text] in try PrivateFiles.write(text, to: entriesPath(directory)) }
        return entries.count
    }

    /// Every entry of the audit stream, page after page; none when it does not exist.
    private static func allEntries(through js: JetStream) async throws(NATSError) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var after: AuditCursor?
        do {
            while true {
                let page = try await AuditStream.read(AuditQuery(user: nil, since: nil, after: after, limit: .max), via: js)
                entries += page.entries
                guard page.more, let next = page.next else { return entries }
                after = next
            }
        } catch where error.isStreamNotFound {
            return []
        }
    }

    /// What a restore did with the backup's audit entries.
    enum Restored: Equatable {
        /// The backup holds none (or was made before backups held the audit stream).
        case none
        /// This many were appended.
        case appended(Int)
        /// The stream holds entries already: none were appended.
        case kept(existing: UInt64)
    }

    /// Appends the backup's entries to an empty audit stream.
    static func restore(from directory: String, through js: JetStream) async throws -> Restored {
        let lines = try await NIOThreadPool.singleton.runIfActive { () -> [Substring]? in
            guard let data = FileManager.default.contents(atPath: entriesPath(directory)) else { return nil }
            return String(decoding: data, as: UTF8.self).split(separator: "\n")
        }
        guard let lines, !lines.isEmpty else { return .none }
        var subjects: [String] = []
        for (index, line) in lines.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let raw = object["user"] as? String, let user = try? UserID(validating: raw), object["change"] is String
            else {
                throw BucketBackup.Failure(
                    description: "\(entriesPath(directory)) line \(index + 1) is not an audit entry; nothing was restored")
            }
            subjects.append(AuditStream.subject(of: user))
        }
        let state = try await js.streamState(AuditStream.name, timeout: .seconds(10))
        guard state.lastSequence == 0 else { return .kept(existing: state.lastSequence) }
        // Consecutive entries of one shard go back in one message, as they were sent: the
        // trail keeps its order and the stream stores few messages.
        var payload: [UInt8] = []
        for (index, line) in lines.enumerated() {
            payload.append(contentsOf: line.utf8)
            payload.append(UInt8(ascii: "\n"))
            let next = index + 1
            if next == lines.count || subjects[next] != subjects[index] || payload.count >= 256 * 1024 {
                _ = try await js.publish(subjects[index], payload: payload)
                payload = []
            }
        }
        return .appended(lines.count)
    }
}
