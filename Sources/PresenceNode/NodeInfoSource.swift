import PresenceCore
import PresenceHTTP
import PresenceStore

/// Assembles `/health/info` from the node's parts.
struct NodeInfoSource: Sendable {
    let configuration: NodeConfiguration
    let store: NATSPresenceStore
    let started: ContinuousClock.Instant

    func current() async -> NodeInfo {
        let connection = store.connectionInfo
        let statistics = store.replica.statistics
        let uptime = ContinuousClock.now - started
        return NodeInfo(
            nodeID: configuration.nodeID,
            role: configuration.role.rawValue,
            version: PresenceNode.version,
            uptimeSeconds: Int(uptime.components.seconds),
            nats: .init(
                connected: connection.connected, serverURL: connection.url, reconnects: connection.reconnects,
                hubReachable: store.readiness().isReady || (connection.connected && configuration.role == .center)),
            cache: .init(statistics),
            presenceCount: statistics.entries,
            leafnodes: configuration.role == .center ? [] : nil)
    }
}
