import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PresenceCore
import Testing

@testable import PresenceHTTP

/// ``ConnectionGuard`` on an embedded channel: what it does to response heads, framing errors
/// and graceful shutdown (its state machine has its own tests).
struct ConnectionGuardTests {
    let drain = HTTPDrain()

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionGuard(settings: .forTests, drain: drain, logger: Logger(label: "connection-guard-test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    func request(_ channel: EmbeddedChannel, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:]) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: version, method: .GET, uri: "/", headers: headers)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        // Passed on to the handler that answers it.
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
    }

    /// Writes a response with a length and returns the head as it left the guard.
    func respond(_ channel: EmbeddedChannel) throws -> HTTPResponseHead? {
        try channel.writeOutbound(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "2"])))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "ok"))))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no response head was written")
            return nil
        }
        return head
    }

    /// A registered guard on its own channel.
    func registered(_ registry: ConnectionRegistry) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionGuard(
                settings: .forTests, drain: drain, registry: registry, logger: Logger(label: "connection-guard-test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    @Test func askedToMakeRoomAConnectionThatBeganARequestStays() throws {
        let registry = ConnectionRegistry(budget: 10)
        let channel = try registered(registry)
        // It told the registry it could make room (new, silent), then a request began.
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: [:])))
        channel.pipeline.fireUserInboundEventTriggered(ConnectionRegistry.MakeRoom())
        #expect(channel.isActive, "a connection with a request being answered is not closed to make room")
        #expect(registry.evictedConnections == 0)
    }

    @Test func askedToMakeRoomAnIdleConnectionCloses() throws {
        let registry = ConnectionRegistry(budget: 10)
        let channel = try registered(registry)
        try request(channel)
        _ = try respond(channel)
        // Between requests: it may make room at once.
        channel.pipeline.fireUserInboundEventTriggered(ConnectionRegistry.MakeRoom())
        #expect(!channel.isActive)
        #expect(registry.evictedConnections == 1)
    }

    @Test func aKeepAliveRequestGetsItsResponseUnchanged() throws {
        let channel = try channel()
        try request(channel)
        let head = try respond(channel)
        #expect(head?.version == .http1_1)
        #expect(head?.headers["connection"] == [])
        #expect(channel.isActive)
    }

    @Test func anHTTP10RequestIsAnsweredInHTTP10AndClosed() throws {
        let channel = try channel()
        try request(channel, version: .http1_0)
        let head = try respond(channel)
        #expect(head?.version == .http1_0)
        #expect(head?.headers["connection"] == ["close"])
    }

    @Test func anHTTP10KeepAliveRequestWithALengthStaysOpen() throws {
        let channel = try channel()
        try request(channel, version: .http1_0, headers: ["connection": "keep-alive"])
        let head = try respond(channel)
        #expect(head?.version == .http1_0)
        #expect(head?.headers["connection"] == ["keep-alive"])
    }

    @Test("a framing error before a request is answered with the error body", arguments: [
        (HTTPParserError.invalidVersion, 400, "bad_request"),
        (HTTPParserError.headerOverflow, 431, "headers_too_large"),
    ])
    func framingErrorBeforeARequest(error: HTTPParserError, status: Int, code: String) throws {
        let channel = try channel()
        channel.pipeline.fireErrorCaught(error)
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self),
            case .body(.byteBuffer(let body))? = try channel.readOutbound(as: HTTPServerResponsePart.self)
        else {
            Issue.record("no error response")
            return
        }
        #expect(Int(head.status.code) == status)
        #expect(head.headers["connection"] == ["close"])
        #expect(head.headers["content-length"] == [String(body.readableBytes)])
        #expect(String(buffer: body).contains(#""code":"\#(code)""#))
        #expect(String(buffer: body).hasSuffix("}}\n"))
    }

    @Test func gracefulShutdownMarksTheDrainAndClosesAfterTheLastResponse() throws {
        let channel = try channel()
        #expect(!drain.isDraining)
        try request(channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(drain.isDraining)
        let head = try respond(channel)
        #expect(head?.headers["connection"] == ["close"])
    }

    @Test func otherErrorsAndEventsPassThrough() throws {
        struct Unrelated: Error {}
        let channel = try channel()
        channel.pipeline.fireErrorCaught(Unrelated())
        #expect(throws: Unrelated.self) { try channel.throwIfErrorCaught() }
        channel.pipeline.fireUserInboundEventTriggered("custom")
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }
}
