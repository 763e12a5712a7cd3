import Logging
import NIOCore
import NIOHTTP1
import NIOTLS
import PresenceCore

/// Applies ``ConnectionStateMachine`` to one connection. It sits between NIO's HTTP/1 decoder
/// and encoder on one side and the conversion to HTTP types on the other, so it sees each
/// request head with its version and keep-alive, every decoder error, and every response head:
///
/// - closes connections whose head is too slow or that idle too long (its timer);
/// - answers a framing error outside a request body itself (400, or 431 for a head over the
///   limit, with the error body) and closes; passes one inside a body on to the handler
///   reading it, which answers 400 (``ErrorMiddleware``), and closes after that response;
/// - answers HTTP/1.0 in HTTP/1.0, with `Connection: close` unless the client asked for
///   keep-alive and the length is known, and closes after it;
/// - tells the node's ``ConnectionRegistry`` whether the connection only waits for its client
///   (so it may be closed to make room), gets shorter head time-outs when accepted under
///   pressure, and closes after its response while the budget is full;
/// - on graceful shutdown (`ChannelShouldQuiesceEvent`) marks ``HTTPDrain``, sends
///   `Connection: close` on the last response of each connection, and gives idle connections
///   the drain period for one last request.
///
/// Closing after a response is graceful: the output is shut, what the client still sends is
/// dropped until it closes (or the linger period ends), so the client reads the response
/// instead of a reset.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let settings: HTTPServerSettings
    private let drain: HTTPDrain
    private let logger: Logger
    private let registry: ConnectionRegistry?
    private var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// What the registry was last told of ``ConnectionStateMachine/roomFrom``.
    private var reportedRoomFrom: NIODeadline?

    /// Created when the connection is accepted: its first head is due from now.
    /// - Parameter tls: an HTTPS connection (its TLS handshake comes before its first head).
    init(
        settings: HTTPServerSettings, drain: HTTPDrain, registry: ConnectionRegistry? = nil, tls: Bool = false,
        logger: Logger
    ) {
        self.settings = settings
        self.drain = drain
        self.logger = logger
        self.registry = registry
        let timeouts = ConnectionStateMachine.Timeouts(settings)
        let pressed = registry?.underPressure ?? false
        self.machine = ConnectionStateMachine(
            timeouts: pressed ? timeouts.underPressure() : timeouts, now: .now(), tls: tls)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        registry?.register(ObjectIdentifier(self), channel: context.channel)
        reportWaiting()
        wakeUp(by: machine.wakeUp(now: .now()), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        registry?.unregister(ObjectIdentifier(self))
        self.context = nil
    }

    /// Tells the registry from when the connection may be closed to make room.
    private func reportWaiting() {
        guard let registry else { return }
        let roomFrom = machine.roomFrom
        guard roomFrom != reportedRoomFrom else { return }
        reportedRoomFrom = roomFrom
        registry.update(ObjectIdentifier(self), roomFrom: roomFrom)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    /// Raw bytes came in (``RequestStartObserver``, in front of the decoder).
    func bytesReceived() {
        guard let context, machine.awaitsBytes else { return }
        wakeUp(by: machine.bytesReceived(now: .now()), context: context)
        reportWaiting()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let forward: Bool
        switch unwrapInboundIn(data) {
        case .head(let head):
            forward = machine.headReceived(keepAlive: head.isKeepAlive, isHTTP10: head.version == .http1_0)
        case .body:
            forward = machine.bodyReceived()
        case .end:
            let (passOn, wake) = machine.endReceived(now: .now())
            forward = passOn
            wakeUp(by: wake, context: context)
        }
        reportWaiting()
        if forward { context.fireChannelRead(data) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.isFramingError(error) else { return context.fireErrorCaught(error) }
        let answer = PresenceError(framing: error, maxHeadBytes: settings.maxHeadBytes)
        let action = machine.framingFailed(answer, now: .now())
        reportWaiting()
        switch action {
        case .ignore, .wait:
            break
        case .forward:
            context.fireErrorCaught(error)
        case .answerAndClose(let answer):
            write(answer, context: context)
            closeGracefully(context: context)
        case .close:
            logger.debug("malformed request body; closing", metadata: ["code": "\(answer.code)"])
            closeGracefully(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ConnectionRegistry.MakeRoom:
            if let from = machine.roomFrom, from <= .now() {
                logger.trace("connection closed to make room for a new one")
                registry?.madeRoom()
                context.close(promise: nil)
            } else {
                // A request began since: it stays, and says again when it may make room.
                reportedRoomFrom = nil
                reportWaiting()
            }
        case let tlsEvent as TLSUserEvent:
            if case .handshakeCompleted = tlsEvent {
                machine.tlsHandshakeCompleted(now: .now())
                reportWaiting()
            }
            context.fireUserInboundEventTriggered(event)
        case is ChannelShouldQuiesceEvent:
            drain.begin()
            wakeUp(by: machine.shutdownBegan(now: .now()), context: context)
            reportWaiting()
        case ChannelEvent.inputClosed where machine.inputClosed():
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            let framing = machine.responseHeadWritten(
                hasContentLength: head.headers.contains(name: "content-length"), budgetFull: registry?.isFull ?? false)
            guard framing.closes || framing.isHTTP10 else { return context.write(data, promise: promise) }
            if framing.isHTTP10 {
                head.version = .http1_0
                if !framing.closes { head.headers.replaceOrAdd(name: "connection", value: "keep-alive") }
            }
            if framing.closes { head.headers.replaceOrAdd(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            let after = machine.responseEndWritten(now: .now())
            reportWaiting()
            switch after {
            case .keepOpen(let wake):
                wakeUp(by: wake, context: context)
            case .close:
                closeGracefully(context: context)
            case .answerAndClose(let answer):
                write(answer, context: context)
                closeGracefully(context: context)
            }
        }
    }

    // MARK: Helpers

    /// Writes `error` as a complete response that closes the connection.
    /// Answered here, before the router: the id is a generated one (the head that would carry
    /// the client's own did not parse), logged with the error as the router's are.
    private func write(_ error: PresenceError, context: ChannelHandlerContext) {
        let requestID = RequestIDMiddleware<PresenceRequestContext>.generated()
        logger.debug(
            "malformed request",
            metadata: ["code": "\(error.code)", "status": "\(error.code.httpStatus.code)", "request_id": "\(requestID)"])
        let body = error.jsonBody
        var headers = HTTPHeaders()
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        let status = HTTPResponseStatus(statusCode: Int(error.code.httpStatus.code))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Flushes, shuts the output once everything is written, and waits (timer) for the client
    /// to close.
    private func closeGracefully(context: ChannelHandlerContext) {
        context.flush()
        context.close(mode: .output, promise: nil)
        wakeUp(by: machine.deadline, context: context)
    }

    /// Makes sure the timer fires by `deadline`.
    private func wakeUp(by deadline: NIODeadline?, context: ChannelHandlerContext) {
        guard let deadline else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        let after = machine.timerFired(now: .now())
        reportWaiting()
        switch after {
        case .closeNow(let reason):
            logger.debug("connection closed", metadata: ["reason": "\(reason.rawValue)"])
            context.close(promise: nil)
        case .failRequest(let reason):
            logger.debug("request failed", metadata: ["reason": "\(reason.rawValue)"])
            context.fireErrorCaught(
                PresenceError(
                    .badRequest,
                    "the request body stopped coming before it was complete (service.http.header_timeout); nothing was applied"))
            wakeUp(by: machine.deadline, context: context)
        case .wakeUp(let deadline):
            wakeUp(by: deadline, context: context)
        case .none:
            break
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    /// Errors of the HTTP decoder: malformed framing, or input after it failed.
    private static func isFramingError(_ error: any Error) -> Bool {
        error is HTTPParserError || error is ByteToMessageDecoderError
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
