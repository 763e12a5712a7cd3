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
/// more are refused `rate_limited`, as are frames past the socket's own rate). Changes of
/// subscribed users come from the hub (``PresenceChangeHub/listen(_:)``) and go through
/// ``PresenceEventFilter``, as on the SSE stream. What is written but not yet sent is
/// counted: past ``SocketSettings/maxQueuedBytes`` the socket is cut (1013) and its memory
/// returned. Every close the server starts sends a close frame and closes the connection
/// within ``closeTimeout`` whether or not the client answers.
final class PresenceSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Commands that may wait while one is in the store.
    static let maxWaitingCommands = 16
    /// How long a close frame may take to reach a client before the connection is closed anyway.
    static let closeTimeout = TimeAmount.seconds(1)

    /// The session a welcomed socket is.
    struct Session {
        var key: SocketSessionRegistry.Key
        var identity: TokenVerifier.Identity
        var device: String?
        /// The status the socket last set (a session it set offline is not refreshed back).
        var status: PresenceStatus
        /// What the socket last wrote into the session.
        var stamp: SocketSessionStamp
    }

    let endpoint: SocketEndpoint
    /// The token of the upgrade request's `Authorization` header, for a hello without one.
    let headerToken: String?
    var lifecycle: SocketLifecycle
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerAt: Timestamp?
    var session: Session?
    var listening: PresenceChangeHub.Listening?
    var filter = PresenceEventFilter()
    private var bucket: TokenBucket
    private var waiting = CircularBuffer<[UInt8]>()
    private var busy = false
    private var queuedBytes = 0
    private var closing = false
    /// The session's heartbeat in flight: a session end waits for it.
    private var refreshing: Task<Void, Never>?

    init(endpoint: SocketEndpoint, headerToken: String?) {
        self.endpoint = endpoint
        self.headerToken = headerToken
        let now = endpoint.clock()
        lifecycle = SocketLifecycle(timing: .init(endpoint.settings), now: now)
        bucket = TokenBucket(burst: endpoint.commandRate.burst, now: now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Upgraded while the server began to drain: it will hear of it no more.
        if endpoint.isDraining {
            close(.goingAway)
            return
        }
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
        // A sign of life, except the close frame that ends it.
        if frame.opcode != .connectionClose, lifecycle.heard(now: endpoint.clock()) { refresh() }
        switch frame.opcode {
        case .text:
            var payload = frame.unmaskedData
            received(payload.readBytes(length: payload.readableBytes) ?? [])
        case .binary:
            if let refused = limited() {
                reply(id: nil, refused)
            } else {
                reply(id: nil, PresenceError(.badRequest, "commands are JSON text frames"))
            }
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
        drop()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as NIOWebSocketError where error == .invalidFrameLength:
            close(.tooBig)
        case let error as NIOWebSocketFrameAggregator.Error:
            switch error {
            case .accumulatedFrameSizeIsTooLarge, .tooManyFragments: close(.tooBig)
            default: close(.protocolError("invalid fragments"))
            }
        case is NIOWebSocketError:
            close(.protocolError("invalid frame"))
        default:
            // The connection failed (a reset, an unclean TLS end): a drop, which waits out the
            // grace like one without a close frame.
            endpoint.logger.debug("socket connection error", metadata: ["error": "\(error)"])
            drop()
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client's end closed without a close frame (the server allows half-closed
            // connections for HTTP): a drop.
            drop()
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            close(.goingAway)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Commands

    /// The socket's own command rate (`rate_limit.writes_per_second`), for every frame that
    /// needs an answer: nil when one more is allowed.
    private func limited() -> PresenceError? {
        let rate = endpoint.commandRate
        if case .limited(let retryAfter) = bucket.take(ratePerSecond: rate.perSecond, burst: rate.burst, now: endpoint.clock()) {
            return PresenceError(.rateLimited, "too many commands; slow down", retryAfter: retryAfter)
        }
        return nil
    }

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
    func pump() {
        while !busy, !lifecycle.isClosed, let bytes = waiting.popFirst() {
            run(bytes)
        }
    }

    private func run(_ bytes: [UInt8]) {
        let parsed = SocketCommand.parse(
            bytes, ttl: endpoint.settings.sessionTTL, maxUsers: endpoint.settings.maxSubscriptions, now: endpoint.clock())
        if let refused = limited() {
            reply(id: parsed.id, refused)
            return
        }
        let command: SocketCommand
        switch parsed.command {
        case .success(let valid): command = valid
        case .failure(let error):
            endpoint.metrics.command("invalid")
            if error.code == .unauthorized, !lifecycle.isLive {
                close(.unauthorized(error.message))
            } else {
                reply(id: parsed.id, error)
            }
            return
        }
        endpoint.metrics.command(command.name)
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
        guard let loop = eventLoop else { return }
        busy = true
        let handler = NIOLoopBound(self, eventLoop: loop)
        let then = NIOLoopBound(then, eventLoop: loop)
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
            close(.slowReader)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in handler.value.queuedBytes -= size }
        context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
    }

    func reply(id: [UInt8]?, _ error: PresenceError) {
        send(SocketMessage.error(id: id, error, allocator: allocator))
    }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// The channel's event loop, while the handler is in its pipeline.
    var eventLoop: (any EventLoop)? { context?.eventLoop }

    // MARK: Closing

    /// Closes the socket for `reason`: the session is settled as the reason says, a close
    /// frame goes out, and the connection closes (within ``closeTimeout``). When the node
    /// drains, the session's end is written before the close frame goes.
    func close(_ reason: SocketClose) {
        let ending = lifecycle.close(reason)
        if reason == .goingAway, ending == .now, let session, let loop = eventLoop {
            let handler = NIOLoopBound(self, eventLoop: loop)
            let end = endpoint.end(session.key, stamp: session.stamp, reason: .drain, after: refreshing)
            settle(.keep, reason: .drain)
            Task {
                await end.value
                handler.eventLoop.execute { handler.value.sendClose(reason) }
            }
            return
        }
        // Settled first: the close below may run channelInactive at once.
        settle(ending, reason: reason == .silent ? .timeout : (reason == .goingAway ? .drain : .close))
        sendClose(reason)
    }

    /// The connection went away without a close frame.
    private func drop() {
        settle(lifecycle.dropped(), reason: .grace)
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
        // A client that does not read never takes the frame: close anyway (its queued bytes go too).
        context.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
    }

    /// Does what the close means for the session: nothing, end it now, or after the grace.
    private func settle(_ ending: SocketClose.SessionEnding, reason: SocketMetrics.EndReason) {
        timer?.cancel()
        listening?.cancel()
        listening = nil
        guard let session else { return }
        switch ending {
        case .keep:
            break
        case .now:
            endpoint.end(session.key, stamp: session.stamp, reason: reason, after: refreshing)
        case .afterGrace:
            let (endpoint, key, stamp, refreshing) = (self.endpoint, session.key, session.stamp, self.refreshing)
            let end: @Sendable () -> Void = { endpoint.end(key, stamp: stamp, reason: .drain, after: refreshing) }
            if let number = endpoint.sessions.startGrace(key, owner: ObjectIdentifier(self), end: end) {
                let expire: @Sendable () -> Void = {
                    guard endpoint.sessions.endGrace(key, number: number) else { return }
                    endpoint.end(key, stamp: stamp, reason: .grace, after: refreshing)
                }
                let grace = TimeAmount.seconds(Int64(endpoint.settings.reconnectGrace))
                if let loop = eventLoop {
                    loop.scheduleTask(in: grace, expire)
                } else {
                    expire()
                }
            }
        }
        release()
    }

    /// Gives the session's place in the registry up (a grace started above keeps it).
    private func release() {
        guard let session else { return }
        endpoint.sessions.release(session.key, owner: ObjectIdentifier(self))
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
            send(WebSocketFrame(fin: true, opcode: .ping, data: allocator.buffer(capacity: 0)))
        case .close(let reason):
            settle(reason.ending, reason: reason == .silent ? .timeout : .grace)
            sendClose(reason)
            return
        }
        scheduleWakeUp()
    }

    // MARK: The session

    /// The socket's session was written: it lives with the socket from now on. A socket on
    /// this node that held the same session is told it was taken over.
    func becomeLive(_ session: Session) {
        self.session = session
        if let loop = eventLoop {
            let handler = NIOLoopBound(self, eventLoop: loop)
            endpoint.sessions.claim(session.key, owner: ObjectIdentifier(self)) {
                handler.eventLoop.execute { handler.value.close(.takenOver) }
            }
        }
        scheduleWakeUp()
    }

    /// The session's heartbeat (a pong's, or any frame's): no durable write (SPEC §3a). A
    /// session that is gone (a DELETE), or that expired meanwhile (a hub out of reach for
    /// longer than its ttl), closes the socket with 4410: the client says hello again.
    private func refresh() {
        guard let session, let loop = eventLoop else { return }
        let endpoint = self.endpoint
        let handler = NIOLoopBound(self, eventLoop: loop)
        let previous = refreshing
        refreshing = Task {
            await previous?.value
            let gone: Bool
            do throws(PresenceError) {
                let stored = try await endpoint.apply(.heartbeat(session.key.session, sessionRequired: true), session.key.user, nil)
                session.stamp.note(session.key.session, in: stored)
                let now = endpoint.clock()
                let current = stored.userPresence.session(session.key.session)?.effective(at: now)
                gone = session.status != .offline && (current == nil || current?.status == .offline)
            } catch {
                // notFound: ended elsewhere. Anything else (no hub): not heard by the other
                // nodes; the session lives on this node's socket and the next refresh tries again.
                gone = error.code == .notFound
            }
            if gone { handler.eventLoop.execute { handler.value.close(.sessionEnded) } }
        }
    }

    // MARK: Changes of subscribed users

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
}
