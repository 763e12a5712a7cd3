import Hummingbird
import PresenceAuth
import PresenceCore
import Tracing

/// What the bearer token of a request proved, as ``TokenAuthenticator`` found it.
public enum Authentication: Sendable {
    /// No token: the route takes none, or the request sent none where one is optional.
    case none
    /// A valid token of this identity.
    case verified(TokenVerifier.Identity)
    /// A token that did not verify where one is optional, with the error a route that needs
    /// it answers (where a token is required, the authenticator answers it at once).
    case refused(PresenceError)
}

/// Verifies the bearer token of a request and puts what it proves into the context
/// (``PresenceRequestContext/authentication``) before the handler runs: the authenticator
/// middleware of HummingbirdAuth, over ``TokenVerifier``.
///
/// Where a token is required (writes; reads without `auth.public_reads`), anything but a valid
/// token is answered here: 401 with `WWW-Authenticate`, or 503 with `Retry-After` while the
/// keys of a JWK Set URL are not loaded. Where it is optional (a single user's public read,
/// which shows the owner's own view to the owner), a request without a token, or with one
/// that does not verify, goes on and reads as the public.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = PresenceRequestContext

    let verifier: TokenVerifier
    /// Whether a request without a valid token is refused here.
    let tokenRequired: Bool
    /// Traces each check as `presence.token.check` (a child of the request's span); nil: no span.
    var tracer: (any Tracer)? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let authorization = request.headers[.authorization]
        if tokenRequired {
            context.authentication = .verified(try await verify(authorization))
        } else if let authorization {
            do {
                context.authentication = .verified(try await verify(authorization))
            } catch {
                context.authentication = .refused(error)
            }
        }
        return try await next(request, context)
    }

    /// The verifier's answer, in a span when the node traces.
    private func verify(_ authorization: String?) async throws(PresenceError) -> TokenVerifier.Identity {
        guard let tracer, let parent = ServiceContext.current else {
            return try await verifier.verify(authorization: authorization)
        }
        let span = tracer.startSpan("presence.token.check", context: parent, ofKind: .internal)
        defer { span.end() }
        do throws(PresenceError) {
            return try await verifier.verify(authorization: authorization)
        } catch {
            span.attributes["presence.token.refused"] = error.code.rawValue
            throw error
        }
    }
}

extension PresenceRequestContext {
    /// The identity of the request's valid token.
    /// - Throws: why its token did not verify, or `unauthorized` saying `missing` when the
    ///   request sent none.
    func requireIdentity(missing: String = "a bearer token is required") throws(PresenceError)
        -> TokenVerifier.Identity
    {
        switch authentication {
        case .verified(let identity): return identity
        case .refused(let error): throw error
        case .none: throw PresenceError(.unauthorized, missing)
        }
    }
}
