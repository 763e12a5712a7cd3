import NIOCore
import NIOHTTP1
import NIOWebSocket
import PresenceCore

/// The WebSocket upgrade of `GET /api/v2/connect`: NIO's upgrader, for what
/// ``SocketUpgradeGate`` admitted. A refused upgrade goes on to the router as plain HTTP, whose
/// `/api/v2/connect` route answers why.
enum SocketUpgrade {
    static func upgrader(_ endpoint: SocketEndpoint) -> NIOTypedWebSocketServerUpgrader<PresenceHTTPChannel.Negotiated> {
        NIOTypedWebSocketServerUpgrader(
            maxFrameSize: SocketSettings.maxFrameBytes,
            // Framing errors reach the socket's handler, which closes with the right code and
            // settles the session.
            enableAutomaticErrorHandling: false,
            // ``SocketUpgradeGate`` let only an admitted upgrade through, and took its place.
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: SocketSettings.maxFrameBytes))
                    try pipeline.addHandler(
                        PresenceSocketHandler(endpoint: endpoint, headerToken: bearerToken(head.headers)))
                    return .socket
                }.flatMap { negotiated in
                    // Keep what the kernel takes for a client that stopped reading small, so
                    // the backlog shows in the socket's own count (as for SSE streams).
                    channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: 65_536)
                        .map { negotiated }.recover { _ in negotiated }
                }
            })
    }

    /// Whether a request target is the socket's path (with or without a query).
    static func isConnectPath(_ uri: String) -> Bool {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path == SocketEndpoint.path
    }

    /// The token of an `Authorization: Bearer` header, if any.
    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(HeaderValue.trimmed(parts[1]))
    }
}
