import NIOCore

/// One bench WebSocket: the only handler in its channel's pipeline. It upgrades with a
/// request written by hand, reads the server's frames off the raw bytes (``ServerFrame``),
/// answers pings (unless silenced) and hands what matters to its ``SocketFleet``. No task, no
/// HTTP codec, no frame decoder: lean enough for 100,000 of them in one process. Lives on its
/// fleet's event loop only.
final class BenchSocket: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase: UInt8 {
        /// Upgrade request sent, answer awaited.
        case upgrading
        /// Upgraded; hello sent, welcome awaited.
        case greeting
        /// Welcomed: the session lives.
        case live
        /// A close frame was sent (by the client).
        case closing
        case closed
    }

    /// What the server's text frame is, from its `type`.
    enum Message {
        case welcome, ok, presence, error, other
    }

    /// The user number (socket `n` is user `<prefix>n`).
    let number: Int
    private unowned let fleet: SocketFleet
    private(set) var phase = Phase.upgrading
    /// When its connect began (uptime), for the connect-to-welcome latency.
    let started: NIODeadline
    /// When the thing awaited (the welcome, a subscription's `ok`) is overdue; nil: nothing awaited.
    var deadline: NIODeadline?
    /// Whether pings are answered (false: a peer gone silent).
    var answersPings = true
    /// The close code the server sent, if any.
    private(set) var closeCode: UInt16?
    private var pending: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var requested = false

    init(number: Int, fleet: SocketFleet, started: NIODeadline) {
        self.number = number
        self.fleet = fleet
        self.started = started
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Added once the connect succeeded: the channel may be active already.
        if context.channel.isActive { requestUpgrade(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        requestUpgrade(context)
        context.fireChannelActive()
    }

    private func requestUpgrade(_ context: ChannelHandlerContext) {
        guard !requested else { return }
        requested = true
        context.writeAndFlush(wrapOutboundOut(fleet.upgradeRequest), promise: nil)
    }

    /// Sends a text frame.
    func send(text: ByteBuffer) {
        guard let context, phase == .greeting || phase == .live else { return }
        let frame = ClientFrame.make(.text, text.readableBytesView, mask: fleet.nextMask(), allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Sends a close frame (1000); the server ends the session at once and closes.
    func sendClose() {
        guard let context, phase == .live || phase == .greeting else { return }
        phase = .closing
        let frame = ClientFrame.make(.close, [0x03, 0xE8], mask: fleet.nextMask(), allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Closes the connection without a close frame.
    func drop() { context?.close(promise: nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var earlier = pending {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        pending = nil
        if phase == .upgrading {
            guard upgraded(&bytes) else { return }
        }
        do {
            while phase != .closed, let frame = try ServerFrame.read(from: &bytes) {
                handle(frame, context: context)
            }
        } catch {
            fleet.malformed(self)
            context.close(promise: nil)
            return
        }
        if bytes.readableBytes > 0 { pending = bytes }
    }

    /// Reads the upgrade's answer off `bytes`: true when it was `101` and the frames follow;
    /// false while it is incomplete (kept) or when the upgrade was refused (closed).
    private func upgraded(_ bytes: inout ByteBuffer) -> Bool {
        let view = bytes.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
            if bytes.readableBytes > 16_384 {
                fleet.refused(self, status: 0)
                context?.close(promise: nil)
            } else {
                pending = bytes
            }
            return false
        }
        // "HTTP/1.1 101 Switching Protocols": the status is the three digits after the version.
        let status = Int(String(decoding: view[view.startIndex..<end.lowerBound].dropFirst(9).prefix(3), as: UTF8.self)) ?? 0
        bytes.moveReaderIndex(forwardBy: view.distance(from: view.startIndex, to: end.upperBound))
        guard status == 101 else {
            fleet.refused(self, status: status)
            context?.close(promise: nil)
            return false
        }
        phase = .greeting
        send(text: fleet.hello(for: number))
        return true
    }

    private func handle(_ frame: ServerFrame, context: ChannelHandlerContext) {
        switch ServerFrame.Opcode(rawValue: frame.opcode) {
        case .text:
            guard frame.fin else {
                fleet.malformed(self)
                context.close(promise: nil)
                return
            }
            switch Self.message(frame.payload) {
            case .welcome:
                guard phase == .greeting else { return }
                phase = .live
                fleet.welcomed(self)
            case .ok: fleet.replied(self, ok: true)
            case .error: fleet.replied(self, ok: false, frame.payload)
            case .presence: fleet.presence(self, frame.payload)
            case .other: break
            }
        case .ping:
            fleet.pinged(answered: answersPings)
            guard answersPings else { return }
            let pong = ClientFrame.make(
                .pong, frame.payload.readableBytesView, mask: fleet.nextMask(), allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .close:
            closeCode = frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt16.self)
            context.close(promise: nil)
        case .pong, .binary, .continuation, nil:
            break
        }
    }

    /// The `type` of a server message.
    static func message(_ payload: ByteBuffer) -> Message {
        switch PresenceFrameFields.typeInitial(payload) {
        case UInt8(ascii: "w"): .welcome
        case UInt8(ascii: "o"): .ok
        case UInt8(ascii: "p"): .presence
        case UInt8(ascii: "e"): .error
        default: .other
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let was = phase
        phase = .closed
        pending = nil
        fleet.ended(self, was: was, closeCode: closeCode)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
