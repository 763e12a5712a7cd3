import Logging
import NIOCore
import NIOWebSocket
import PresenceAuth
import PresenceCore

/// One connected socket (SPEC §3b), on its channel's event loop: the last handler after
/// NIO's WebSocket frame decoder and aggregator. It holds no task while the socket is idle:
/// a timer for the next ping or deadline, and a task only while a command is in the store.
///
/// Frames are handled in order, one command at a time (at most ``maxWaitingCommands`` wait;
/// more are refused `rate_limited`, as are commands past the socket's own rate). Changes of
/// subscribed users come from the hub (``PresenceChangeHub/listen(_:)``) and go through
/// ``PresenceEventFilter``, as on the SSE stream. What is written but not yet sent is
/// counted: past ``SocketSettings/maxQueuedBytes`` the socket is cut (1013) and its memory
/// returned.
final class PresenceSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Commands that may wait while one is in the store.
    static let maxWaitingCommands = 16

    /// The session a welcomed socket is.
    struct Session {
        var key: SocketSessionRegistry.Key
        var identity: TokenVerifier.Identity
        var device: String?
    }

    let endpoint: SocketEndpoint
    /// The token of the upgrade request's `Authorization` header, for a hello without one.
    private let headerToken: String?
    private var lifecycle: SocketLifecycle
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerAt: Timestamp?
    private(set) var session: Session?
    private var listening: PresenceChangeHub.Listening?
    private var filter = PresenceEventFilter()
    private var bucket: TokenBucket
    private var waiting = CircularBuffer<[UInt8]>()
    private var busy = false
    private var queuedBytes = 0
    private var closing = false

    init(endpoint: SocketEndpoint, headerToken: String?) {
        self.endpoint = endpoint
        self.headerToken = headerToken
        let now = endpoint.clock()
        lifecycle = SocketLifecycle(timing: .init(endpoint.settings), now: now)
        bucket = TokenBucket(burst: endpoint.commandRate.burst, now: now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleWakeUp()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        listening?.cancel()
        listening = nil
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !lifecycle.isClosed else { return }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            close(.protocolError("no extension was negotiated"))
            return
        }
        if lifecycle.heard(now: endpoint.clock()) { refresh() }
        switch frame.opcode {
        case .text:
            var payload = frame.unmaskedData
            received(payload.readBytes(length: payload.readableBytes) ?? [])
        case .binary:
            send(SocketMessage.error(id: nil, PresenceError(.badRequest, "commands are JSON text frames"), allocator: context.channel.allocator))
        case .ping:
            // Counted like any other frame: a client that sends pings and never reads
            // cannot pile pongs up in the node.
            send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
        case .pong:
            break
        case .connectionClose:
            close(.byClient)
        default:
            close(.protocolError("unknown opcode"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let ending = lifecycle.dropped()
        settle(ending, reason: .grace)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError, error == .invalidFrameLength {
            close(.tooBig)
        } else if let error = error as? NIOWebSocketFrameAggregator.Error {
            switch error {
            case .accumulatedFrameSizeIsTooLarge, .tooManyFragments: close(.tooBig)
            default: close(.protocolError("invalid fragments"))
            }
        } else if error is NIOWebSocketError {
            close(.protocolError("invalid frame"))
        } else {
            endpoint.logger.debug("socket error", metadata: ["error": "\(error)"])
            close(.protocolError("connection error"))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client's end closed without a close frame (the server allows half-closed
            // connections for HTTP): a drop.
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            endpoint.beginDrain()
            close(.goingAway)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Commands

    private func received(_ bytes: [UInt8]) {
        guard waiting.count < Self.maxWaitingCommands else {
            let refused = PresenceError(.rateLimited, "too many commands waiting; slow down", retryAfter: 1)
            reply(id: SocketCommand.parse(bytes, ttl: endpoint.settings.sessionTTL, maxUsers: 0, now: endpoint.clock()).id, refused)
            return
        }
        waiting.append(bytes)
        pump()
    }

    /// Runs the waiting commands in order while none is in the store.
    private func pump() {
        while !busy, !lifecycle.isClosed, let bytes = waiting.popFirst() {
            run(bytes)
        }
    }

    private func run(_ bytes: [UInt8]) {
        let now = endpoint.clock()
        let parsed = SocketCommand.parse(
            bytes, ttl: endpoint.settings.sessionTTL, maxUsers: endpoint.settings.maxSubscriptions, now: now)
        let command: SocketCommand
        switch parsed.command {
        case .success(let valid): command = valid
        case .failure(let error):
            endpoint.metrics.command("invalid")
            reply(id: parsed.id, error)
            return
        }
        endpoint.metrics.command(command.name)
        let rate = endpoint.commandRate
        if case .limited(let retryAfter) = bucket.take(ratePerSecond: rate.perSecond, burst: rate.burst, now: now) {
            reply(id: parsed.id, PresenceError(.rateLimited, "too many commands; slow down", retryAfter: retryAfter))
            return
        }
        switch command {
        case .hello(let hello): self.hello(hello, id: parsed.id)
        case .set(let update): set(update, id: parsed.id)
        case .subscribe(let users): subscribe(users, id: parsed.id)
        case .unsubscribe(let users): unsubscribe(users, id: parsed.id)
        }
    }

    /// Runs `work` off the event loop and `then` back on it, one command at a time.
    func inStore<Value: Sendable>(
        _ work: @escaping @Sendable () async -> Value, then: @escaping (PresenceSocketHandler, Value) -> Void
    ) {
        guard let context else { return }
        busy = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let then = NIOLoopBound(then, eventLoop: context.eventLoop)
        Task {
            let value = await work()
            handler.eventLoop.execute {
                handler.value.busy = false
                then.value(handler.value, value)
                handler.value.pump()
            }
        }
    }

    // MARK: Sending

    /// Sends one text frame, counting its bytes until they are written.
    func send(_ text: ByteBuffer) {
        send(WebSocketFrame(fin: true, opcode: .text, data: text))
    }

    /// Sends one frame, counting its bytes until they are written; past
    /// ``SocketSettings/maxQueuedBytes`` the client is cut as a slow reader.
    private func send(_ frame: WebSocketFrame) {
        guard let context, !closing else { return }
        let size = frame.data.readableBytes + 2
        queuedBytes += size
        guard queuedBytes <= endpoint.settings.maxQueuedBytes else {
            endpoint.metrics.slowReaders.increment()
            cut(.slowReader)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in handler.value.queuedBytes -= size }
        context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
    }

    func reply(id: [UInt8]?, _ error: PresenceError) {
        guard let context else { return }
        send(SocketMessage.error(id: id, error, allocator: context.channel.allocator))
    }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// The channel's event loop, while the handler is in its pipeline.
    var eventLoop: (any EventLoop)? { context?.eventLoop }

    // MARK: Closing

    /// Closes the socket for `reason` (a close frame, then the connection) and settles its session.
    func close(_ reason: SocketClose) {
        let ending = lifecycle.close(reason)
        if reason == .goingAway, ending == .now, let session, let loop = context?.eventLoop {
            // The node drains: the session's end is written before the socket closes (the
            // server waits for its sockets to close before the store stops).
            let endpoint = self.endpoint
            let handler = NIOLoopBound(self, eventLoop: loop)
            settle(.keep, reason: .drain)
            Task {
                await endpoint.endSession(session.key, reason: .drain)
                handler.eventLoop.execute { handler.value.sendClose(reason) }
            }
            return
        }
        // Settled first: the close below may run channelInactive at once.
        settle(ending, reason: reason == .goingAway ? .drain : .close)
        sendClose(reason)
    }

    /// Closes without waiting for what is queued (a slow reader): its memory is returned now.
    private func cut(_ reason: SocketClose) {
        let ending = lifecycle.close(reason)
        closing = true
        settle(ending, reason: .grace)
        context?.close(promise: nil)
    }

    private func sendClose(_ reason: SocketClose) {
        guard let context, !closing else { return }
        closing = true
        var data = context.channel.allocator.buffer(capacity: 2 + reason.reason.utf8.count)
        data.writeInteger(reason.code)
        data.writeString(String(reason.reason.utf8.prefix(123)) ?? "")
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Does what the close means for the session: nothing, end it now, or after the grace.
    private func settle(_ ending: SocketClose.SessionEnding, reason: SocketMetrics.EndReason) {
        timer?.cancel()
        listening?.cancel()
        listening = nil
        guard let session else { return }
        let endpoint = self.endpoint
        let key = session.key
        let owner = ObjectIdentifier(self)
        switch ending {
        case .keep:
            endpoint.sessions.release(key, owner: owner)
        case .now:
            endpoint.sessions.release(key, owner: owner)
            Task { await endpoint.endSession(key, reason: reason) }
        case .afterGrace:
            let droppedAt = endpoint.clock()
            let end: @Sendable () -> Void = { Task { await endpoint.endSession(key, reason: .drain) } }
            guard let number = endpoint.sessions.startGrace(key, owner: owner, end: end) else { return }
            let grace = TimeAmount.seconds(Int64(endpoint.settings.reconnectGrace))
            let loop = context?.eventLoop
            let expire: @Sendable () -> Void = {
                guard endpoint.sessions.endGrace(key, number: number) else { return }
                Task { await endpoint.endAfterGrace(key, droppedAt: droppedAt) }
            }
            if let loop {
                loop.scheduleTask(in: grace, expire)
            } else {
                Task {
                    try? await Task.sleep(for: .seconds(endpoint.settings.reconnectGrace))
                    expire()
                }
            }
        }
        self.session = nil
    }

    // MARK: Timer

    /// Sets the timer for the lifecycle's next wake-up (one timer per socket).
    func scheduleWakeUp() {
        guard let context, let wakeUp = lifecycle.nextWakeUp else { return }
        if let timerAt, timerAt <= wakeUp, timer != nil { return }
        timer?.cancel()
        timerAt = wakeUp
        let delay = max(0, wakeUp.millisecondsSinceEpoch - endpoint.clock().millisecondsSinceEpoch)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
            handler.value.timer = nil
            handler.value.timerAt = nil
            handler.value.wake()
        }
    }

    private func wake() {
        switch lifecycle.tick(now: endpoint.clock()) {
        case .none: break
        case .sendPing:
            if let context {
                let ping = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))
                context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
            }
        case .close(let reason):
            settle(reason.ending, reason: reason == .silent ? .timeout : .grace)
            sendClose(reason)
            return
        }
        scheduleWakeUp()
    }

    // MARK: Lifecycle hooks for the commands

    func lifecycleHelloArrived() -> Bool { lifecycle.helloArrived() }
    func lifecycleHelloRefused() { lifecycle.helloRefused() }
    func lifecycleWelcomed(now: Timestamp, tokenExpires: Timestamp?) -> Bool {
        lifecycle.welcomed(now: now, tokenExpires: tokenExpires)
    }
    var isLive: Bool { lifecycle.isLive }
    var headerTokenValue: String? { headerToken }

    func becomeLive(_ session: Session) {
        self.session = session
        let loop = context?.eventLoop
        let handler = loop.map { NIOLoopBound(self, eventLoop: $0) }
        endpoint.sessions.claim(session.key, owner: ObjectIdentifier(self)) {
            guard let handler else { return }
            handler.eventLoop.execute { handler.value.close(.takenOver) }
        }
        scheduleWakeUp()
    }

    /// The session's heartbeat (a pong's, or any frame's): no durable write (SPEC §3a). A
    /// session ended elsewhere closes the socket (4410).
    private func refresh() {
        guard let session, let context else { return }
        let endpoint = self.endpoint
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            do throws(PresenceError) {
                _ = try await endpoint.apply(.heartbeat(session.key.session, sessionRequired: true), session.key.user)
            } catch where error.code == .notFound {
                handler.eventLoop.execute { handler.value.close(.sessionEnded) }
            } catch {
                // Not heard by the other nodes (no hub): the session lives on this node's
                // socket, and the next refresh tries again.
            }
        }
    }

    // MARK: Changes of subscribed users

    var listeningHandle: PresenceChangeHub.Listening? {
        get { listening }
        set { listening = newValue }
    }

    /// A change from the hub, on this socket's event loop.
    func deliver(_ stored: StoredPresence) {
        guard lifecycle.isLive else { return }
        let now = endpoint.clock()
        guard filter.admitChange(stored, at: now) else { return }
        send(SocketMessage.presence(stored.body(at: now), allocator: allocator))
    }

    /// A record read for a subscription's snapshot.
    func deliverSnapshot(_ stored: StoredPresence) {
        guard lifecycle.isLive else { return }
        let now = endpoint.clock()
        guard filter.admitSnapshot(stored, at: now) else { return }
        send(SocketMessage.presence(stored.body(at: now), allocator: allocator))
    }

    func forget(_ users: [UserID]) {
        for user in users { filter.forget(user) }
    }
}

extension SocketCommand {
    /// The command's type, for the metrics.
    var name: String {
        switch self {
        case .hello: "hello"
        case .set: "set"
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        }
    }
}
