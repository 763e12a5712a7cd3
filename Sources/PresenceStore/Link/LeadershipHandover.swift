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

    /// A handover of `store`'s bucket away from the nats-server named `serverName`.
    public init(store: NATSPresenceStore, serverName: String, timeout: Duration = .seconds(5)) {
        self.store = store
        self.serverName = serverName
        self.timeout = timeout
    }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the node is going down at once, nobody waits for a handover
        }
        _ = await store.handOverLeadership(from: serverName, timeout: timeout)
    }
}
