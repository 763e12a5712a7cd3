import EmbeddedNATS
import Foundation
import NATSClient
import NIOPosix
import PresenceCore

/// `presence backup` and `presence restore`: the presence bucket's records, online, through
/// the running center's own NATS (its loopback client port, with the credential in its data
/// directory).
///
/// A backup is a directory with `presence-bucket.json` (every key's latest value, the export
/// format of ``StandaloneStoreMigration``) and `manifest.json` (when, from which node and
/// version, how many records). A restore writes every record the bucket does not have (a
/// write that expects no value: whatever was written since is newer and wins), so it is safe to
/// repeat and to run into a live cluster; leaves take the records through their watchers.
/// Heartbeats are not in the bucket and need no backup; sessions come back with their
/// `expires_at`, and the sweeper ends those whose time has passed.
public enum BucketBackup {
    /// The records file in a backup directory.
    public static func recordsPath(_ directory: String) -> String { directory + "/presence-bucket.json" }
    /// The manifest file in a backup directory.
    public static func manifestPath(_ directory: String) -> String { directory + "/manifest.json" }

    /// What a backup says about itself.
    public struct Manifest: Codable, Equatable, Sendable {
        public var format = 1
        public var version: String
        public var node: String
        public var bucket: String
        public var records: Int
        /// Entries of the audit stream in `presence-audit.jsonl` (nil: a backup made before
        /// backups held the audit stream).
        public var auditEntries: Int?
        public var createdAt: String

        enum CodingKeys: String, CodingKey {
            case format, version, node, bucket, records
            case auditEntries = "audit_entries"
            case createdAt = "created_at"
        }
    }

    /// Why a backup or restore cannot be done, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes the bucket's records into `directory` (created, mode 0700; files 0600), from the
    /// center of `configuration` (its data directory and node id).
    /// - Returns: the manifest written.
    public static func backup(_ configuration: NodeConfiguration, version: String, into directory: String) async throws -> Manifest {
        let (dataDirectory, bucket, node) = (configuration.dataDirectory, EmbeddedNATSConfiguration(configuration).bucket, configuration.nodeID)
        let url = try await clientURL(dataDirectory: dataDirectory)
        let records: [StandaloneStoreMigration.Record]
        do {
            // Users' records only: the bucket's other keys (the storage probe) are the store's own.
            records = try await StandaloneStoreMigration.readAll(url: url, bucket: bucket).filter {
                UserKeyCodec.userID(forKey: $0.key) != nil
            }
        } catch {
            throw Failure(description: "cannot read bucket \(bucket) through the center on \(dataDirectory): \(error)")
        }
        try await NIOThreadPool.singleton.runIfActive { _ = try PrivateFiles.makeDirectory(directory) }
        let auditEntries = try await withConnection(url, name: "presence-backup") { js in
            try await AuditBackup.backup(through: js, into: directory)
        }
        let manifest = Manifest(
            version: version, node: node, bucket: bucket, records: records.count, auditEntries: auditEntries,
            createdAt: ISO8601DateFormatter().string(from: Date()))
        try await NIOThreadPool.singleton.runIfActive {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try PrivateFiles.write(String(decoding: try encoder.encode(records.sorted { $0.key < $1.key }), as: UTF8.self), to: recordsPath(directory))
            try PrivateFiles.write(String(decoding: try encoder.encode(manifest), as: UTF8.self), to: manifestPath(directory))
        }
        return manifest
    }

    /// What a restore did.
    public struct Restored: Sendable {
        /// Records written, and records the bucket had already (kept: they are newer).
        public var written: Int
        public var present: Int
        /// What became of the backup's audit entries, in words.
        public var audit: String
    }

    /// Writes every record of the backup in `directory` that the bucket does not have, then
    /// the backup's audit entries when the audit stream holds none (``AuditBackup``).
    public static func restore(from directory: String, _ configuration: NodeConfiguration) async throws -> Restored {
        let (written, present) = try await restoreRecords(from: directory, configuration)
        let url = try await clientURL(dataDirectory: configuration.dataDirectory)
        let audit = try await withConnection(url, name: "presence-restore") { js in
            try await AuditBackup.restore(from: directory, through: js)
        }
        let words =
            switch audit {
            case .none: "the backup holds no audit entries"
            case .appended(let count): "\(count) audit entries appended to the empty audit stream"
            case .kept(let existing): "the audit stream holds entries already (last sequence \(existing)): the backup's were not appended"
            }
        return Restored(written: written, present: present, audit: words)
    }

    /// Runs `body` with a JetStream context of the center at `url`, then closes the connection.
    private static func withConnection<T: Sendable>(_ url: String, name: String, _ body: (JetStream) async throws -> T)
        async throws -> T
    {
        let connection = try await NATSConnection.connect(options: NATSConnectionOptions(urls: [url], name: name))
        do {
            let result = try await body(try connection.jetStream(domain: nil, timeout: .seconds(10)))
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func restoreRecords(from directory: String, _ configuration: NodeConfiguration) async throws -> (written: Int, present: Int) {
        let (dataDirectory, name) = (configuration.dataDirectory, EmbeddedNATSConfiguration(configuration).bucket)
        let (manifest, records) = try await NIOThreadPool.singleton.runIfActive { try read(directory) }
        guard manifest.bucket == name else {
            throw Failure(description: "\(directory) is a backup of bucket \(manifest.bucket), not \(name)")
        }
        let url = try await clientURL(dataDirectory: dataDirectory)
        let connection: NATSConnection
        do {
            connection = try await NATSConnection.connect(options: NATSConnectionOptions(urls: [url], name: "presence-restore"))
        } catch {
            throw Failure(description: "cannot reach the center on \(dataDirectory) (is it running?): \(error)")
        }
        do {
            let js = try connection.jetStream(domain: nil, timeout: .seconds(10))
            var configuration = KeyValueConfiguration(bucket: name)
            configuration.createIfMissing = false
            let bucket = try await js.keyValue(configuration)
            var written = 0
            for record in records {
                do throws(NATSError) {
                    _ = try await bucket.put(record.key, value: Array(record.value), expecting: .noValue)
                    written += 1
                } catch where error.isWrongLastSequence {
                    continue  // the bucket has this key: its value is newer than the backup's
                }
            }
            await connection.close()
            return (written, records.count - written)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The manifest and records of a backup directory. Blocking.
    static func read(_ directory: String) throws -> (Manifest, [StandaloneStoreMigration.Record]) {
        let decoder = JSONDecoder()
        guard let manifestData = FileManager.default.contents(atPath: manifestPath(directory)),
            let manifest = try? decoder.decode(Manifest.self, from: manifestData)
        else { throw Failure(description: "\(directory) holds no backup (no readable manifest.json)") }
        guard manifest.format == 1 else {
            throw Failure(description: "\(directory) is a backup of format \(manifest.format), which this version cannot read")
        }
        guard let recordsData = FileManager.default.contents(atPath: recordsPath(directory)),
            let records = try? decoder.decode([StandaloneStoreMigration.Record].self, from: recordsData)
        else { throw Failure(description: "\(recordsPath(directory)) is missing or not a backup's records") }
        guard records.count == manifest.records else {
            throw Failure(description: "\(directory) is incomplete: \(records.count) records, the manifest says \(manifest.records)")
        }
        // Nothing goes into the bucket that no node could read: a user's key, a presence record.
        if let bad = records.first(where: {
            UserKeyCodec.userID(forKey: $0.key) == nil || StoredPresence(decoding: Array($0.value), revision: 1) == nil
        }) {
            throw Failure(description: "\(recordsPath(directory)) holds '\(bad.key)', which is not a user's presence record; nothing was restored")
        }
        return (manifest, records)
    }

    /// The running node's NATS client URL, with its credential, from its data directory.
    static func clientURL(dataDirectory: String) async throws -> String {
        let url = try await NIOThreadPool.singleton.runIfActive { NATSClientCredential.storedURL(dataDirectory: dataDirectory) }
        guard let url else {
            throw Failure(
                description: "no running center on \(dataDirectory) (no nats-client.url): start it, or pass the --data-dir (or --config) of one")
        }
        return url
    }
}
