import EmbeddedNATS
import PresenceCore

extension EmbeddedNATSConfiguration {
    /// The embedded nats-server of a node, from its `service.node_id`, `service.role`,
    /// `nats.*` keys (server binary, data directory, ports, hosts, `max_store`, leaf
    /// credentials and TLS, cluster and routes), and the heartbeat plane's subject.
    init(_ node: NodeConfiguration) {
        let mode: Mode = node.role == .center ? .center(leafnodePort: node.natsLeafnodePort) : .leaf(hubURLs: node.hubURLs)
        self.init(
            serverName: node.nodeID, dataDirectory: node.dataDirectory, mode: mode, serverBinary: node.natsServerBinary,
            clientPort: node.natsClientPort, monitorPort: node.natsMonitorPort, leafnodeHost: node.natsLeafnodeHost)
        maxStoreBytes = node.natsMaxStore
        heartbeatSubject = HeartbeatBatch.subject(bucket: bucket)
        leafUser = node.leafUser
        leafPassword = node.leafPassword
        moreLeafCredentials = node.leafCredentialPairs.map { .init(user: $0.user, password: $0.password) }
        if node.leafTLSCertFile != nil || node.leafTLSCAFile != nil {
            leafTLS = .init(certFile: node.leafTLSCertFile, keyFile: node.leafTLSKeyFile, caFile: node.leafTLSCAFile)
        }
        if node.isClusteredCenter {
            var cluster = Cluster(name: node.clusterName, host: node.clusterHost, port: node.clusterPort, routes: node.clusterRoutes)
            cluster.user = node.routeUser
            cluster.password = node.routePassword
            if node.routeTLSCertFile != nil {
                cluster.tls = .init(certFile: node.routeTLSCertFile, keyFile: node.routeTLSKeyFile, caFile: node.routeTLSCAFile)
            }
            self.cluster = cluster
        }
    }
}
