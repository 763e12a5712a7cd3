import Hummingbird
import NIOCore

/// The request context of the presence API: the core storage, the client's address, which
/// the per-client read limit keys on, and the connection, which a stream watches and closes
/// when it cuts off a slow consumer.
public struct PresenceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, when the transport knows it.
    public let remoteAddress: SocketAddress?
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }
}
