import Hummingbird
import NIOCore

/// The request context of the presence API: the core storage plus the client's address,
/// which the per-client read limit keys on.
public struct PresenceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, when the transport knows it.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
