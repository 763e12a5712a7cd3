import Logging
import NIOCore
import NIOHTTP1
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
    private var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    /// Created when the connection is accepted: its first head is due from now.
    init(settings: HTTPServerSettings, drain: HTTPDrain, logger: Logger) {
        self.settings = settings
        self.drain = drain
        self.logger = logger
        self.machine = ConnectionStateMachine(timeouts: .init(settings), now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        wakeUp(by: machine.wakeUp(now: .now()), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    /// Raw bytes came in (``RequestStartObserver``, in front of the decoder).
    func bytesReceived() {
        guard let context, machine.input.awaitsBytes else { return }
        wakeUp(by: machine.bytesReceived(now: .now()), context: context)
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
        if forward { context.fireChannelRead(data) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.isFramingError(error) else { return context.fireErrorCaught(error) }
        let answer = PresenceError(framing: error, maxHeadBytes: settings.maxHeadBytes)
        let action = machine.framingFailed(answer, now: .now())
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
        case is ChannelShouldQuiesceEvent:
            drain.begin()
            wakeUp(by: machine.shutdownBegan(now: .now()), context: context)
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
            let framing = machine.responseHeadWritten(hasContentLength: head.headers.contains(name: "content-length"))
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
            switch machine.responseEndWritten(now: .now()) {
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
        switch machine.timerFired(now: .now()) {
        case .closeNow(let reason):
            logger.debug("connection closed", metadata: ["reason": "\(reason.rawValue)"])
            context.close(promise: nil)
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

extension ConnectionStateMachine.Input {
    /// Whether the next bytes move a deadline: they begin a request, or continue its body.
    var awaitsBytes: Bool {
        switch self {
        case .idle, .body: return true
        case .head, .discarding: return false
        }
    }
}
