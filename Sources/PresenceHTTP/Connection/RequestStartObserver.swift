import NIOCore

/// Sits in front of the HTTP decoder and tells the ``ConnectionGuard`` when bytes come in, so
/// that the header timeout of a request counts from its first byte (the decoder only reports
/// a head once it is complete).
final class RequestStartObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: ConnectionGuard

    init(connection: ConnectionGuard) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.bytesReceived()
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestStartObserver: Sendable {}
