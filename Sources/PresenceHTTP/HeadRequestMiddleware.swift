import Hummingbird

/// Strips the body of responses to `HEAD` requests, which are routed to the GET handlers
/// (every GET route but the stream also answers HEAD), keeping status and headers.
struct HeadRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        guard request.method == .head else { return response }
        if let length = response.body.contentLength { response.headers[.contentLength] = String(length) }
        response.body = ResponseBody()
        return response
    }
}
