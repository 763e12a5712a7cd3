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
            leafnodes: await leafnodes(), cluster: await cluster())
    }

    /// On a clustered center: the routes its embedded server has and the bucket's group as
    /// the store's last probe found it.
    private func cluster() async -> NodeInfo.Cluster? {
        guard configuration.isClusteredCenter else { return nil }
        let routed = Set(await supervisor?.routedServers() ?? [])
        let bucket = store.bucketState
        let group = bucket?.cluster
        var names = routed
        if let group {
            names.formUnion(group.replicas.map(\.name))
            if let leader = group.leader { names.insert(leader) }
        }
        names.remove(configuration.nodeID)
        return NodeInfo.Cluster(
            name: group?.name ?? configuration.clusterName,
            peers: names.sorted().map { NodeInfo.Cluster.Peer(name: $0, connected: routed.contains($0)) },
            leader: group?.leader, bucketReplicas: bucket?.replicas ?? 0,
            replicas: (group?.replicas ?? []).map { .init(name: $0.name, current: $0.current, lag: $0.lag) })
    }

    /// On a center with an embedded server, the leaves its monitoring endpoint lists.
    private func leafnodes() async -> [NodeInfo.Leafnode]? {
        guard configuration.role == .center else { return nil }
        guard let supervisor, let leaves = await supervisor.connectedLeafnodes() else { return [] }
        return leaves.map { NodeInfo.Leafnode(name: $0.name, address: $0.address) }
    }
}
