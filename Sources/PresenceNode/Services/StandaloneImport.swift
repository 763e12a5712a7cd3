import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PresenceStore
import ServiceLifecycle

/// Writes an exported standalone store into the bucket once the store can take writes (see
/// ``StandaloneStoreMigration``), then waits for shutdown. Until it is done the node is not
/// ready (``isPending``): it would answer "no record" for records still to come. Runs on every
/// embedded center, so a center that went back to standalone after a failed first clustered
/// start gets its records back too.
final class StandaloneImport: Service, Sendable {
    private let path: String
    private let logger: Logger
    private let pending: NIOLockedValueBox<Bool>
    private let storeBox = NIOLockedValueBox<NATSPresenceStore?>(nil)

    /// An import of the export file in `dataDirectory`, if there is one; give it its store
    /// with ``use(_:)`` before it runs (the store's readiness asks ``problem``, so it exists first).
    init(dataDirectory: String, logger: Logger) {
        self.path = StandaloneStoreMigration.exportPath(dataDirectory: dataDirectory)
        self.logger = logger
        self.pending = NIOLockedValueBox(FileManager.default.fileExists(atPath: path))
    }

    /// The store the records go into.
    func use(_ store: NATSPresenceStore) {
        storeBox.withLockedValue { $0 = store }
    }

    private var store: NATSPresenceStore {
        get throws {
            guard let store = storeBox.withLockedValue({ $0 }) else { throw CancellationError() }
            return store
        }
    }

    /// Why the node is not ready yet, while records of a standalone store are still to be written.
    var problem: String? {
        pending.withLockedValue { $0 } ? "writing the records of the standalone store into the bucket" : nil
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await self.importWhenReady() }
        try? await gracefulShutdown()
    }

    private func importWhenReady() async throws {
        let path = path
        guard pending.withLockedValue({ $0 }) else { return }
        let records = try await NIOThreadPool.singleton.runIfActive { try StandaloneStoreMigration.readExport(path) }
        while true {
            while try !store.storeReadiness().isReady { try await Task.sleep(for: .milliseconds(500)) }
            do {
                let written = try await write(records)
                try await NIOThreadPool.singleton.runIfActive { try FileManager.default.removeItem(atPath: path) }
                pending.withLockedValue { $0 = false }
                logger.notice(
                    "the standalone store's records are in the bucket",
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

    /// Writes every record the bucket does not have yet, 32 at a time.
    /// - Returns: how many were written.
    private func write(_ records: [StandaloneStoreMigration.Record]) async throws -> Int {
        let store = try store
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            var written = 0
            var next = records.makeIterator()
            for _ in 0..<32 {
                guard let record = next.next() else { break }
                group.addTask { try await store.createIfAbsent(key: record.key, value: Array(record.value)) }
            }
            while let wrote = try await group.next() {
                if wrote { written += 1 }
                if let record = next.next() {
                    group.addTask { try await store.createIfAbsent(key: record.key, value: Array(record.value)) }
                }
            }
            return written
        }
    }
}
