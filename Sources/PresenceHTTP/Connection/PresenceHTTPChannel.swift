import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL

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
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let settings: HTTPServerSettings
    let drain: HTTPDrain
    let tls: TLSCertificateStore?
    let connections: ConnectionRegistry?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = settings.maxHeadBytes
            limits.maxHeaderListSize = settings.maxHeadBytes
            let connectionGuard = ConnectionGuard(
                settings: settings, drain: drain, registry: connections, tls: tls != nil, logger: logger)
            let pipeline = channel.pipeline.syncOperations
            if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.current)) }
            try pipeline.addHandler(RequestStartObserver(connection: connectionGuard))
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // Hummingbird's loop reads one request at a time
                withErrorHandling: false,  // ConnectionGuard answers framing errors
                withOutboundHeaderValidation: false,  // HTTP types validate the fields
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try pipeline.addHandler(connectionGuard)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: tls != nil))
            let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
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
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
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
    public static func presence(
        _ settings: HTTPServerSettings, drain: HTTPDrain, tls: TLSCertificateStore? = nil,
        connections: ConnectionRegistry? = nil
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            PresenceHTTPChannel(responder: responder, settings: settings, drain: drain, tls: tls, connections: connections)
        }
    }
}
