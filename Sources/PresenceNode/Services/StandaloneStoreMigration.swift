import EmbeddedNATS
import Foundation
import Logging
import NATSClient
import NIOConcurrencyHelpers
import NIOPosix

/// Brings the records of a standalone center into the cluster it joins.
///
/// nats-server does not carry a standalone server's streams into a cluster: the meta layer
/// has no record of them, and once another center creates the bucket the local copy is
/// replaced (its data is gone; nats-io/nats-server#5467). So before a center first starts
/// clustered on a data directory that holds a standalone store, ``exportIfNeeded`` starts the
/// old store alone, reads the latest value of every key into an export file, and moves the
/// old store aside (kept as a backup, never deleted). Once the clustered bucket is up,
/// ``StandaloneImport`` writes each record that the cluster does not already have (a write
/// that expects no value: anything written in the cluster meanwhile is newer and wins) and
/// removes the export file. Both steps are safe to repeat after a crash.
enum StandaloneStoreMigration {
    /// The export file in the data directory: a JSON array of `{key, value}` (value base64).
    static func exportPath(dataDirectory: String) -> String { dataDirectory + "/standalone-export.json" }

    struct ExportError: Error, CustomStringConvertible {
        let description: String
    }

    struct Record: Codable, Equatable {
        var key: String
        var value: Data
    }

    /// Whether `storeDirectory` holds a standalone JetStream store with the presence bucket:
    /// its stream (in the presence account, or in the global account where v0.1 kept it)
    /// without the cluster's meta group (`$SYS/_js_`, which a clustered server keeps).
    static func holdsStandaloneStore(_ storeDirectory: String, account: String, bucket: String) -> Bool {
        let root = storeDirectory + "/jetstream"
        let files = FileManager.default
        let stream = [account, "$G"].contains { files.fileExists(atPath: "\(root)/\($0)/streams/KV_\(bucket)") }
        return stream && !files.fileExists(atPath: "\(root)/$SYS/_js_")
    }

    /// The records of an export file, or none when there is no file.
    static func readExport(_ path: String) throws -> [Record] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try JSONDecoder().decode([Record].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Exports a standalone store before the center's first clustered start (see the type).
    /// Blocking file work runs on NIO's thread pool.
    static func exportIfNeeded(_ embedded: EmbeddedNATSConfiguration, logger: Logger) async throws {
        guard embedded.cluster != nil,
            holdsStandaloneStore(embedded.storeDirectory, account: EmbeddedNATSConfiguration.presenceAccount, bucket: embedded.bucket)
        else { return }
        let path = exportPath(dataDirectory: embedded.dataDirectory)
        logger.notice(
            "this center joins a cluster with a standalone store: exporting its records first",
            metadata: ["store": "\(embedded.storeDirectory)"])
        let stored = try await readStandalone(embedded, logger: logger)
        try await NIOThreadPool.singleton.runIfActive {
            // An export left by an earlier attempt whose import has not finished: its records
            // stay, and the store's (newer, or written since) win key by key.
            var merged = Dictionary(try readExport(path).map { ($0.key, $0) }) { $1 }
            for record in stored { merged[record.key] = record }
            let records = merged.values.sorted { $0.key < $1.key }
            try JSONEncoder().encode(records).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        logger.notice("exported the standalone store", metadata: ["records": "\(stored.count)", "file": "\(path)"])
        let backup = embedded.dataDirectory + "/jetstream-standalone-\(Int(Date().timeIntervalSince1970))"
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.moveItem(atPath: embedded.storeDirectory, toPath: backup)
        }
        logger.notice("kept the standalone store as a backup", metadata: ["backup": "\(backup)"])
    }

    /// Starts the standalone store alone (no cluster, no leaves), reads the latest value of
    /// every key, and stops it.
    private static func readStandalone(_ embedded: EmbeddedNATSConfiguration, logger: Logger) async throws -> [Record] {
        var alone = embedded
        alone.cluster = nil
        alone.mode = .center(leafnodePort: 0)
        alone.clientPort = 0
        alone.monitorPort = 0
        let supervisor = NATSServerSupervisor(configuration: alone, logger: logger)
        try await supervisor.start()
        do {
            let records = try await readAll(url: supervisor.authenticatedClientURL, bucket: embedded.bucket)
            await supervisor.stop()
            return records
        } catch {
            await supervisor.stop()
            throw error
        }
    }

    /// The latest value of every key of bucket `name`, read through `url` with a watcher; throws
    /// when the read goes silent before the end.
    static func readAll(url: String, bucket name: String) async throws -> [Record] {
        let connection = try await NATSConnection.connect(options: NATSConnectionOptions(urls: [url], name: "presence-export"))
        do {
            let js = try connection.jetStream(domain: nil, timeout: .seconds(60))
            var configuration = KeyValueConfiguration(bucket: name)
            configuration.createIfMissing = false
            let bucket = try await js.keyValue(configuration)
            let watcher = try await bucket.watchAll(timeout: .seconds(60))
            let collected = NIOLockedValueBox<(records: [Record], complete: Bool)>(([], false))
            try await watcher.deliver(idleTimeout: .seconds(30)) { event in
                switch event {
                case .entry(let entry):
                    if entry.operation == .put {
                        collected.withLockedValue { $0.records.append(Record(key: entry.key, value: Data(entry.value))) }
                    }
                    return true
                case .initialValuesDone:
                    collected.withLockedValue { $0.complete = true }
                    return false
                case .timeout:
                    return false
                }
            }
            await connection.close()
            let (records, complete) = collected.withLockedValue { $0 }
            // A read that went silent before the end is not an export: the store stays where it is.
            guard complete else { throw ExportError(description: "the standalone store went silent after \(records.count) records") }
            return records
        } catch {
            await connection.close()
            throw error
        }
    }
}
