import EmbeddedNATS
import Foundation

/// The nats-server the tests' nodes run: `auto`, chosen as a node chooses it
/// (``NATSServerLocator``: the project's pinned release in `.tools`), or the one
/// `PRESENCE_TEST_NATS_SERVER_BINARY` names (`make test-system-nats`: Debian's 2.9.10 on PATH,
/// named, so a node runs it although it is older than 2.10).
enum TestNATSServer {
    /// The value for `nats.server_binary`.
    static let binary = ProcessInfo.processInfo.environment["PRESENCE_TEST_NATS_SERVER_BINARY"] ?? NATSServerLocator.automatic

    /// The binary a node with ``binary`` runs, nil when none is found.
    static let path: String? = try? NATSServerLocator.choose(configured: binary).path
}
