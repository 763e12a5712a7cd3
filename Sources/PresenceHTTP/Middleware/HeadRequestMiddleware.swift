import Hummingbird

/// Strips the body of responses to `HEAD` requests, which are routed to the GET handlers
/// (every GET route but the stream also answers HEAD), keeping status and headers.
struct HeadRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response = try await next(request, context)
        guard request.method == .head else { return response }
        var headers = response.headers
        if let length = response.body.contentLength { headers[.contentLength] = String(length) }
        // Built anew: setting `Response.body` would rewrite Content-Length to the empty body's 0.
        return Response(status: response.status, headers: headers, body: ResponseBody())
    }
}
