import PresenceHTTP

extension SocketSettings {
    /// Connected sockets' behaviour, from `service.ws.*` and `presence.reconnect_grace`.
    init(_ node: NodeConfiguration) {
        self.init(
            pingInterval: node.wsPingInterval, pongTimeout: node.wsPongTimeout, authTimeout: node.wsAuthTimeout,
            reconnectGrace: node.reconnectGrace, maxConnections: node.wsMaxConnections,
            maxSubscriptions: node.wsMaxSubscriptions)
    }
}
