import Hummingbird
import NIOCore
import PresenceAuth

/// The request context of the presence API: the core storage, the client's address, which
/// the per-client read limit keys on, the connection, which a stream watches and closes
/// when it cuts off a slow consumer, and what the request's bearer token proved.
public struct PresenceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, when the transport knows it.
    public let remoteAddress: SocketAddress?
    /// The connection the request came on.
    public let channel: any Channel
    /// What the bearer token proved, on the routes that take one (``TokenAuthenticator``).
    public var authentication: Authentication = .none

    /// The identity of the request's valid bearer token; nil without one.
    public var identity: TokenVerifier.Identity? {
        guard case .verified(let identity) = authentication else { return nil }
        return identity
    }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }
}
