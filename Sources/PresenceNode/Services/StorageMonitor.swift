#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EmbeddedNATS
import Logging
import ServiceLifecycle
import NIOConcurrencyHelpers

/// Watches the free space of a center's JetStream store.
///
/// While the disk is full (less than ``minimumFreeBytes`` available) the node is not ready
/// and writes fail at once with 507 instead of waiting for an acknowledgement that will not
/// come. nats-server 2.9 stays wedged after a write failed for lack of space, even once space
/// is freed (writes from any node time out for ever): when space comes back the monitor
/// restarts it, which costs about a second without writes.
final class StorageMonitor: Service, Sendable {
    /// Below this many available bytes the store counts as full.
    static let minimumFreeBytes: UInt64 = 1 << 20

    private let directory: String
    private let interval: Duration
    private let supervisor: NATSServerSupervisor
    private let logger: Logger
    private let state = NIOLockedValueBox<String?>(nil)

    /// - Parameter directory: the JetStream store folder.
    init(directory: String, interval: Duration = .seconds(1), supervisor: NATSServerSupervisor, logger: Logger) {
        self.directory = directory
        self.interval = interval
        self.supervisor = supervisor
        self.logger = logger
    }

    /// Why the store cannot take writes, nil while it has space.
    var problem: String? { state.withLockedValue { $0 } }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            check()
            try? await Task.sleep(for: interval)
        }
    }

    /// One look at the free space; acts on a change.
    func check() {
        guard let available = Self.availableBytes(directory) else { return }
        let full = available < Self.minimumFreeBytes
        let (before, problem) = state.withLockedValue { problem in
            let before = problem
            if full {
                problem =
                    problem ?? "the presence store is out of disk space (\(available) bytes free in \(directory)); free some space"
            } else {
                problem = nil
            }
            return (before, problem)
        }
        if before == nil, let problem {
            logger.error("\(problem); refusing writes (507) until there is space again")
        } else if before != nil, problem == nil {
            logger.notice("disk space is available again; accepting writes")
            supervisor.restartServer(reason: "the disk was full; nats-server 2.9 does not recover from that by itself")
        }
    }

    /// Bytes available to an unprivileged writer on the file system of `path`.
    static func availableBytes(_ path: String) -> UInt64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }
}
