import EmbeddedNATS
import Foundation
import Logging
import NATSClient
import NIOConcurrencyHelpers
import NIOPosix
import PresenceStore
import ServiceLifecycle

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

    struct Record: Codable, Equatable {
        var key: String
        var value: Data
    }

    /// Whether `storeDirectory` holds a standalone JetStream store with the presence bucket:
    /// its streams without the cluster's meta group (`$SYS/_js_`, which a clustered server keeps).
    static func holdsStandaloneStore(_ storeDirectory: String, account: String, bucket: String) -> Bool {
        let root = storeDirectory + "/jetstream"
        let files = FileManager.default
        return files.fileExists(atPath: "\(root)/\(account)/streams/KV_\(bucket)")
            && !files.fileExists(atPath: "\(root)/$SYS/_js_")
    }

    /// Exports a standalone store before the center's first clustered start (see the type).
    /// Blocking file work runs on NIO's thread pool.
    static func exportIfNeeded(_ embedded: EmbeddedNATSConfiguration, logger: Logger) async throws {
        guard embedded.cluster != nil,
            holdsStandaloneStore(embedded.storeDirectory, account: EmbeddedNATSConfiguration.presenceAccount, bucket: embedded.bucket)
        else { return }
        let path = exportPath(dataDirectory: embedded.dataDirectory)
        if !FileManager.default.fileExists(atPath: path) {
            logger.notice(
                "this center joins a cluster with a standalone store: exporting its records first",
                metadata: ["store": "\(embedded.storeDirectory)"])
            let records = try await readStandalone(embedded, logger: logger)
            try await NIOThreadPool.singleton.runIfActive {
                try JSONEncoder().encode(records).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
            logger.notice("exported the standalone store", metadata: ["records": "\(records.count)", "file": "\(path)"])
        }
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
            let records = try await readAll(url: supervisor.clientURL, bucket: embedded.bucket)
            await supervisor.stop()
            return records
        } catch {
            await supervisor.stop()
            throw error
        }
    }

    private static func readAll(url: String, bucket name: String) async throws -> [Record] {
        let connection = try await NATSConnection.connect(options: NATSConnectionOptions(urls: [url], name: "presence-export"))
        do {
            let js = try connection.jetStream(domain: nil, timeout: .seconds(60))
            var configuration = KeyValueConfiguration(bucket: name)
            configuration.createIfMissing = false
            let bucket = try await js.keyValue(configuration)
            let watcher = try await bucket.watchAll(timeout: .seconds(60))
            let collected = NIOLockedValueBox<[Record]>([])
            try await watcher.deliver(idleTimeout: .seconds(5)) { event in
                switch event {
                case .entry(let entry):
                    if entry.operation == .put {
                        collected.withLockedValue { $0.append(Record(key: entry.key, value: Data(entry.value))) }
                    }
                    return true
                case .initialValuesDone, .timeout:
                    return false
                }
            }
            await connection.close()
            return collected.withLockedValue { $0 }
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// Writes an exported standalone store into the clustered bucket once it is ready (see
/// ``StandaloneStoreMigration``), then waits for shutdown.
final class StandaloneImport: Service, Sendable {
    private let store: NATSPresenceStore
    private let path: String
    private let logger: Logger

    init(store: NATSPresenceStore, dataDirectory: String, logger: Logger) {
        self.store = store
        self.path = StandaloneStoreMigration.exportPath(dataDirectory: dataDirectory)
        self.logger = logger
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await self.importWhenReady() }
        try? await gracefulShutdown()
    }

    private func importWhenReady() async throws {
        let path = path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let records = try await NIOThreadPool.singleton.runIfActive {
            try JSONDecoder().decode([StandaloneStoreMigration.Record].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        while true {
            while !store.readiness().isReady { try await Task.sleep(for: .milliseconds(500)) }
            do {
                var written = 0
                for record in records where try await store.createIfAbsent(key: record.key, value: Array(record.value)) {
                    written += 1
                }
                try await NIOThreadPool.singleton.runIfActive { try FileManager.default.removeItem(atPath: path) }
                logger.notice(
                    "the standalone store's records are in the clustered bucket",
                    metadata: ["written": "\(written)", "already_there": "\(records.count - written)"])
                return
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("cannot write the standalone store's records yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
