import NIOCore
import NIOHTTP1

/// Sits before NIO's upgrade handler and lets only an upgrade the socket endpoint admits reach
/// it: a WebSocket upgrade of `GET /api/v2/connect` with a key and version 13, from an allowed
/// origin, with a place free (taken here, given back when the connection closes). Any other
/// request head loses its `Upgrade` header, so it goes on as plain HTTP: NIO's handler drops
/// the head of an upgrade it does not make, and the router must see it to answer why (403, 503,
/// 400) or to serve another path as if no upgrade had been asked.
final class SocketUpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let endpoint: SocketEndpoint
    private var sawFirstHead = false

    init(endpoint: SocketEndpoint) {
        self.endpoint = endpoint
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !sawFirstHead, case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        sawFirstHead = true
        guard head.headers.contains(name: "upgrade") else {
            context.fireChannelRead(data)
            return
        }
        if admits(head) {
            context.channel.closeFuture.whenComplete { [endpoint] _ in endpoint.release() }
        } else {
            head.headers.remove(name: "upgrade")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Whether this is an upgrade to take: then a place is taken for it.
    private func admits(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .GET, SocketUpgrade.isConnectPath(head.uri),
            head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }),
            // As NIO's upgrader reads them (one value each), so that it never declines an
            // upgrade this gate took a place for.
            head.headers["sec-websocket-key"].count == 1, head.headers["sec-websocket-version"] == ["13"]
        else { return false }
        if endpoint.refusal(origin: head.headers.first(name: "origin")) != nil || !endpoint.reserve() {
            endpoint.metrics.refused.increment()
            return false
        }
        return true
    }
}
