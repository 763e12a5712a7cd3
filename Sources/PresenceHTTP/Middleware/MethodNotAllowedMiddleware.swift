import Hummingbird
import PresenceCore

/// Answers 405 `method_not_allowed` with an `Allow` header when a request's path exists with
/// other methods; unknown paths stay 404. Added to the router after every route, so it wraps
/// only the router's not-found responder.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = routes.allowedMethods(path: request.uri.path) else { throw error }
            let list = allowed.joined(separator: ", ")
            var response = PresenceError(.methodNotAllowed, "\(request.method.rawValue) is not allowed here; allowed: \(list)")
                .response
            response.headers[.allow] = list
            return response
        }
    }
}
