import HTTPTypes
import Hummingbird

/// CORS for browser apps on other origins (`service.http.cors.allowed_origins`): Hummingbird's
/// `CORSMiddleware` for the headers and preflights, in front of it the one rule it cannot
/// take as a list: only the configured origins (or any, with `*`) get an
/// `Access-Control-Allow-Origin`. A preflight from another origin is answered 204 without
/// it, so the browser refuses the request; a plain request from one is served as from a
/// non-browser client (the browser hides the answer from the page).
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    private let origins: Set<String>
    private let allowsAny: Bool
    private let cors: CORSMiddleware<Context>

    /// The request headers a page may send.
    static var allowedHeaders: [HTTPField.Name] {
        [.accept, .authorization, .contentType, .ifMatch, .ifNoneMatch, .lastEventID, .xRequestID]
    }

    /// The response headers a page may read.
    static var exposedHeaders: [String] { ["ETag", "Retry-After", "X-Request-ID", "WWW-Authenticate", "Allow"] }

    init(allowedOrigins: [String]) {
        self.allowsAny = allowedOrigins.contains("*")
        self.origins = Set(allowedOrigins.map { $0.lowercased() })
        self.cors = CORSMiddleware(
            allowOrigin: allowsAny ? .all : .originBased, allowHeaders: Self.allowedHeaders,
            allowMethods: [.get, .head, .put, .post, .delete, .options], allowCredentials: false,
            exposedHeaders: Self.exposedHeaders, maxAge: .seconds(600))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin] else { return varyByOrigin(try await next(request, context)) }
        if allowsAny || origins.contains(origin.lowercased()) {
            var response = try await cors.handle(request, context: context, next: next)
            // Hummingbird's middleware names the exposed headers only in preflight answers;
            // the Fetch standard reads them from the actual response.
            if request.method != .options {
                response.headers[.accessControlExposeHeaders] = Self.exposedHeaders.joined(separator: ", ")
            }
            return response
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return varyByOrigin(Response(status: .noContent))
        }
        return varyByOrigin(try await next(request, context))
    }

    /// With a list of origins, every answer depends on `Origin`: a shared cache must not
    /// serve one origin's answer (or a plain request's) to another.
    private func varyByOrigin(_ response: Response) -> Response {
        guard !allowsAny else { return response }
        var response = response
        response.headers[values: .vary].append("Origin")
        return response
    }
}

extension HTTPField.Name {
    /// `Last-Event-ID`, sent by a reconnecting `EventSource`.
    static var lastEventID: Self { named("Last-Event-ID") }
    /// `X-Request-ID`.
    static var xRequestID: Self { named("X-Request-ID") }

    /// A field name this service spells out as a constant (a valid token, so never nil).
    private static func named(_ name: String) -> Self {
        guard let field = Self(name) else { preconditionFailure("\(name) is a valid HTTP field name") }
        return field
    }
}
