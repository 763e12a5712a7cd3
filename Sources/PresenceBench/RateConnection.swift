import NIOCore
import NIOHTTP1

/// One keep-alive connection of an open-loop run: at most one request in flight (no
/// pipelining, so a slow answer never holds up another request behind it). It tells its
/// ``RateLoop`` when it is free again and when it closed. Lives on the loop's event loop only.
final class RateConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let loop: RateLoop
    private var context: ChannelHandlerContext?
    /// The request in flight: its index in the schedule, its scheduled and sent times.
    private(set) var inFlight: (index: Int, scheduled: NIODeadline, sent: NIODeadline)?
    private var status = 0
    private var keepAlive = true

    init(loop: RateLoop) { self.loop = loop }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Writes a request; the caller has checked that none is in flight.
    func send(head: HTTPRequestHead, body: ByteBuffer?, index: Int, scheduled: NIODeadline) {
        guard let context else { return }
        inFlight = (index, scheduled, .now())
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            guard let request = inFlight else { return }
            inFlight = nil
            loop.answered(status: status, index: request.index, scheduled: request.scheduled)
            if keepAlive {
                loop.connectionFree(self)
            } else {
                context.close(promise: nil)
            }
        }
    }

    /// Gives up on the request in flight (past the timeout) and closes the connection; the
    /// request's index.
    @discardableResult
    func abandon() -> Int? {
        let index = inFlight?.index
        inFlight = nil
        context?.close(promise: nil)
        return index
    }

    /// Closes the connection (the run is over).
    func close() { context?.close(promise: nil) }

    func channelInactive(context: ChannelHandlerContext) {
        let lost = inFlight?.index
        inFlight = nil
        loop.connectionClosed(self, lostRequest: lost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
