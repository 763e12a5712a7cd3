import EmbeddedNATS
import PresenceCore
import PresenceHTTP
import PresenceStore

/// Assembles `/health/info` from the node's parts.
struct NodeInfoSource: Sendable {
    let configuration: NodeConfiguration
    let store: NATSPresenceStore
    let supervisor: NATSServerSupervisor?
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
                hubReachable: connection.connected && store.isHubReachable),
            cache: .init(statistics),
            presenceCount: statistics.entries,
            leafnodes: await leafnodes())
    }

    /// On a center with an embedded server, the leaves its monitoring endpoint lists.
    private func leafnodes() async -> [NodeInfo.Leafnode]? {
        guard configuration.role == .center else { return nil }
        guard let supervisor, let leaves = await supervisor.connectedLeafnodes() else { return [] }
        return leaves.map { NodeInfo.Leafnode(name: $0.name, address: $0.address) }
    }
}
