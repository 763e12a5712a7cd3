import Logging
import ServiceLifecycle

/// On a graceful stop of a clustered center (SIGTERM: what a rolling update does), hands the
/// bucket's leadership to another center while this one's nats-server still runs
/// (``NATSPresenceStore/handOverLeadership(from:timeout:)``). Listed after the store among the
/// node's services, so it acts before the store and nats-server stop.
public struct LeadershipHandover: Service {
    private let store: NATSPresenceStore
    private let serverName: String
    private let timeout: Duration
    private let lameDuck: (@Sendable () -> Void)?

    /// A handover of `store`'s bucket away from the nats-server named `serverName`.
    /// - Parameter lameDuck: puts that nats-server into lame-duck mode first (it hands over
    ///   every stream's and its meta group's leadership, and takes no new clients).
    public init(
        store: NATSPresenceStore, serverName: String, timeout: Duration = .seconds(5), lameDuck: (@Sendable () -> Void)? = nil
    ) {
        self.store = store
        self.serverName = serverName
        self.timeout = timeout
        self.lameDuck = lameDuck
    }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the node is going down at once, nobody waits for a handover
        }
        lameDuck?()
        // Then the bucket's and the audit stream's leaderships explicitly, waiting until they moved.
        _ = await store.handOverLeadership(from: serverName, timeout: timeout)
    }
}
