import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOWebSocket

/// The HTTP/1 child channel of a presence node: Hummingbird's `HTTP1Channel` pipeline with
/// ``ConnectionGuard`` (and its ``RequestStartObserver``) added, in place of Hummingbird's
/// connection state handler:
///
///     bytes → RequestStartObserver → HTTP/1 encoder, decoder (NIO) → ConnectionGuard
///           → HTTP/1 ↔ HTTP types (NIO extras) → Hummingbird's request loop
///
/// With HTTPS, a TLS handler (``TLSCertificateStore``'s context of the moment) comes first.
/// Requests are handled by Hummingbird's own loop (`handleHTTP`).
struct PresenceHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    typealias HTTPChannel = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// What a connection turned out to be.
    enum Negotiated: Sendable {
        /// HTTP, handled by Hummingbird's request loop.
        case http(HTTPChannel)
        /// A presence socket, which lives in its channel's handlers.
        case socket
    }

    /// The connection's outcome, once its first request head has been read.
    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let settings: HTTPServerSettings
    let drain: HTTPDrain
    let tls: TLSCertificateStore?
    let connections: ConnectionRegistry?
    /// `GET /api/v2/connect`; nil: no upgrades.
    let sockets: SocketEndpoint?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = settings.maxHeadBytes
            limits.maxHeaderListSize = settings.maxHeadBytes
            let connectionGuard = ConnectionGuard(
                settings: settings, drain: drain, registry: connections, tls: tls != nil, logger: logger)
            let pipeline = channel.pipeline.syncOperations
            if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.current)) }
            let observer = RequestStartObserver(connection: connectionGuard)
            try pipeline.addHandler(observer)
            guard let sockets else {
                try pipeline.configureHTTPServerPipeline(
                    withPipeliningAssistance: false,  // Hummingbird's loop reads one request at a time
                    withErrorHandling: false,  // ConnectionGuard answers framing errors
                    withOutboundHeaderValidation: false,  // HTTP types validate the fields
                    withEncoderConfiguration: .init(),
                    withDecoderLimitConfiguration: limits
                )
                try pipeline.addHandler(connectionGuard)
                return Value(negotiated: channel.eventLoop.makeSucceededFuture(.http(try httpChannel(channel))), channel: channel)
            }
            // The first request may upgrade to a socket: NIO's typed upgrade handler reads its
            // head, and either removes every HTTP handler and hands the connection to the
            // socket, or adds the rest of the HTTP pipeline and lets the request through.
            let encoder = HTTPResponseEncoder(configuration: .init())
            let decoder = ByteToMessageHandler(
                HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits))
            try pipeline.addHandler(encoder)
            try pipeline.addHandler(decoder)
            try pipeline.addHandler(connectionGuard)
            let gate = SocketUpgradeGate(endpoint: sockets)
            try pipeline.addHandler(gate)
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [SocketUpgrade.upgrader(sockets)],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture { .http(try httpChannel(channel)) }
                })
            let upgrader = NIOTypedHTTPServerUpgradeHandler(
                httpEncoder: encoder, extraHTTPHandlers: [observer, decoder, connectionGuard, gate], upgradeConfiguration: upgrade)
            try pipeline.addHandler(upgrader)
            return Value(negotiated: upgrader.upgradeResultFuture, channel: channel)
        }
    }

    /// The rest of the HTTP pipeline and the channel Hummingbird's loop reads.
    private func httpChannel(_ channel: any Channel) throws -> HTTPChannel {
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: tls != nil))
        let asyncChannel = try HTTPChannel(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        // A connection accepted while the server stops taking new ones (shutdown) is dropped
        // unhandled, and NIO traps when the last reference to its unfinished writer goes
        // (seen under a connection flood at SIGTERM). Held here until the connection
        // closes, then finished; finishing a handled one again changes nothing.
        channel.closeFuture.whenComplete { _ in
            Task { try? await asyncChannel.executeThenClose { _, _ in } }
        }
        return asyncChannel
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http(let asyncChannel): await handleHTTP(asyncChannel: asyncChannel, logger: logger)
            case .socket: break  // lives in its handlers, with no task
            }
        } catch {
            // The connection closed (or failed) before its first request was read.
            value.channel.close(promise: nil)
        }
    }
}

extension HTTPServerBuilder {
    /// The HTTP/1 server of a presence node (``PresenceHTTPChannel``): header and idle
    /// time-outs, framing errors answered with the error body, HTTP/1.0 closed after its
    /// response, and a drain on graceful shutdown.
    /// - Parameters:
    ///   - drain: set when graceful shutdown begins (`/health/ready` reads it).
    ///   - tls: the certificate for HTTPS; nil: plain HTTP.
    ///   - connections: the connection budget's registry (also given to the application as its
    ///     `availableConnectionsDelegate`); nil: no budget.
    ///   - sockets: `GET /api/v2/connect` (SPEC §3b); nil: no upgrades.
    public static func presence(
        _ settings: HTTPServerSettings, drain: HTTPDrain, tls: TLSCertificateStore? = nil,
        connections: ConnectionRegistry? = nil, sockets: SocketEndpoint? = nil
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            PresenceHTTPChannel(
                responder: responder, settings: settings, drain: drain, tls: tls, connections: connections,
                sockets: sockets)
        }
    }
}
