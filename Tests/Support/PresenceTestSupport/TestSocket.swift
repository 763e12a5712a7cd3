import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A WebSocket client for the tests, on NIO: it connects to `GET /api/v2/connect`, records
/// every text frame and the close it gets, answers pings (unless told to go silent), and can
/// send what a well-behaved client would not (an oversize frame, a flood, nothing at all).
public final class TestSocket: Sendable {
    /// What the server sent.
    public struct Received: Sendable {
        public var texts: [String] = []
        public var closeCode: UInt16?
        public var closeReason = ""
        public var closed = false
        public var pings = 0
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<Received>
    private let answersPings: NIOLockedValueBox<Bool>

    private init(channel: any Channel, state: NIOLockedValueBox<Received>, answersPings: NIOLockedValueBox<Bool>) {
        self.channel = channel
        self.state = state
        self.answersPings = answersPings
    }

    /// The server answered without upgrading.
    public struct UpgradeFailed: Error {}

    /// How much slower than usual this run may be (`PRESENCE_TEST_TIME_SCALE`, as the node tests read it).
    static let timeScale: Double = {
        guard let text = ProcessInfo.processInfo.environment["PRESENCE_TEST_TIME_SCALE"], let value = Double(text), value >= 1
        else { return 1 }
        return value
    }()

    /// Connects and upgrades; throws when the server does not upgrade.
    /// - Parameters:
    ///   - headers: extra headers of the upgrade request (`Authorization`, `Origin`).
    ///   - receiveBuffer: `SO_RCVBUF` of the socket, for a client that will stop reading.
    ///   - tls: `wss://`, trusting only this CA file, for this host name.
    public static func connect(
        port: Int, headers: [(String, String)] = [], path: String = "/api/v2/connect", receiveBuffer: Int? = nil,
        tls: (caFile: String, hostname: String)? = nil
    ) async throws -> TestSocket {
        let sslContext: NIOSSLContext? = try tls.map { tls in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(tls.caFile)
            configuration.certificateVerification = .fullVerification
            return try NIOSSLContext(configuration: configuration)
        }
        let state = NIOLockedValueBox(Received())
        let answersPings = NIOLockedValueBox(true)
        let upgraded = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: receiveBuffer)
        }
        bootstrap = bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext, let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: tls.hostname))
                    }
                    var requestHeaders = HTTPHeaders([("Host", "127.0.0.1:\(port)"), ("Content-Length", "0")])
                    for (name, value) in headers { requestHeaders.add(name: name, value: value) }
                    let request = NIOLoopBound(
                        UpgradeRequester(path: path, headers: requestHeaders, failed: upgraded), eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: 1 << 20,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                channel.pipeline.syncOperations.removeHandler(request.value, promise: nil)
                                try channel.pipeline.syncOperations.addHandler(
                                    FrameRecorder(state: state, answersPings: answersPings))
                                upgraded.succeed()
                            }
                        })
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(request.value)
                }
            }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        do {
            try await upgraded.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return TestSocket(channel: channel, state: state, answersPings: answersPings)
    }

    /// Sends a text frame.
    public func send(_ text: String) async throws {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        try await sendFrame(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer))
    }

    /// Sends a JSON object as a text frame.
    public func send(json: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: json)
        try await send(String(decoding: data, as: UTF8.self))
    }

    /// Sends any frame.
    public func sendFrame(_ frame: WebSocketFrame) async throws {
        try await channel.writeAndFlush(frame)
    }

    /// Sends a close frame with `code` (the server answers and closes).
    public func close(code: UInt16 = 1000) async throws {
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(code)
        try await sendFrame(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
    }

    /// Drops the connection without a close frame (a network that went away).
    public func drop() async {
        try? await channel.close()
    }

    /// Stops answering pings (a peer that went silent: SIGSTOP, a dead network).
    public func goSilent() { answersPings.withLockedValue { $0 = false } }

    /// Stops reading from the socket (a client that never reads its events).
    public func stopReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Reads again after ``stopReading()``.
    public func resumeReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
    }

    /// What was received so far.
    public var received: Received { state.withLockedValue { $0 } }

    /// Text frames received, parsed.
    public var messages: [[String: Any]] {
        received.texts.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits for the first message (after the first `skip`) for which `match` holds.
    public func message(
        within timeout: Duration = .seconds(5), _ match: @escaping ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any]? {
        let deadline = ContinuousClock.now + timeout * Self.timeScale
        repeat {
            if let found = messages.first(where: match) { return found }
            try await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        return nil
    }

    /// Waits for the reply to command `id`.
    public func reply(to id: Int, within timeout: Duration = .seconds(5)) async throws -> [String: Any]? {
        try await message(within: timeout) { ($0["id"] as? Int) == id }
    }

    /// Waits until the server closed: the close code it sent (nil: none, the connection just ended).
    public func closed(within timeout: Duration = .seconds(5)) async throws -> (closed: Bool, code: UInt16?, reason: String) {
        let deadline = ContinuousClock.now + timeout * Self.timeScale
        repeat {
            let now = received
            if now.closed { return (true, now.closeCode, now.closeReason) }
            try await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        let now = received
        return (now.closed, now.closeCode, now.closeReason)
    }

    /// Says hello with `token` and waits for the welcome (nil: none came).
    public func hello(token: String?, session: String? = nil, extra: [String: Any] = [:]) async throws -> [String: Any]? {
        var hello: [String: Any] = ["type": "hello"]
        if let token { hello["token"] = token }
        if let session { hello["session"] = session }
        hello.merge(extra) { $1 }
        try await send(json: hello)
        return try await message { ($0["type"] as? String) == "welcome" }
    }
}

/// Sends the upgrade request when the connection is up; fails the promise when the answer is
/// not an upgrade.
private final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let path: String
    let headers: HTTPHeaders
    let failed: EventLoopPromise<Void>

    init(path: String, headers: HTTPHeaders, failed: EventLoopPromise<Void>) {
        self.path = path
        self.headers = headers
        self.failed = failed
    }

    func channelActive(context: ChannelHandlerContext) {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Reached only when the server answered without upgrading.
        failed.fail(TestSocket.UpgradeFailed())
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failed.fail(TestSocket.UpgradeFailed())
    }
}

/// Records frames; answers pings while told to.
private final class FrameRecorder: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let state: NIOLockedValueBox<TestSocket.Received>
    let answersPings: NIOLockedValueBox<Bool>

    init(state: NIOLockedValueBox<TestSocket.Received>, answersPings: NIOLockedValueBox<Bool>) {
        self.state = state
        self.answersPings = answersPings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            var data = frame.unmaskedData
            let text = data.readString(length: data.readableBytes) ?? ""
            state.withLockedValue { $0.texts.append(text) }
        case .ping:
            state.withLockedValue { $0.pings += 1 }
            if answersPings.withLockedValue({ $0 }) {
                let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            }
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            let reason = data.readString(length: data.readableBytes) ?? ""
            state.withLockedValue {
                $0.closeCode = code
                $0.closeReason = reason
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLockedValue { $0.closed = true }
    }
}
