import HTTPTypes
import Hummingbird
import Instrumentation
import Tracing

/// A server span per request, when the node traces: named by its route (`PUT
/// /api/v2/presence/{user_id}`), with the method, the route, the status, the request id and the
/// user id's hash (``TracedUserID``); a `traceparent` from the client makes it that trace's child.
/// The handler runs with the span's context, so the token check and the store's write spans
/// are its children.
///
/// Hummingbird's own `TracingMiddleware` is not used: it records `url.path`, which holds the
/// user id in clear, and it takes the process-wide tracer (two nodes in one test process
/// each have their own).
///
/// A request without a `traceparent` is traced with probability `sampleRatio`, decided here
/// before anything is created: an untraced request costs one random number, not a span (at
/// 1 %, creating unsampled spans cost GET about a fifth of its rate). The tracer's own sampler
/// then follows the parent, so a request is sampled once.
struct RequestTracingMiddleware<Context: RequestContext>: RouterMiddleware {
    let tracer: any Tracer
    let sampleRatio: Double

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.headers[Self.traceparent] == nil, sampleRatio < 1, Double.random(in: 0..<1) >= sampleRatio {
            return try await next(request, context)
        }
        var parent = ServiceContext.current ?? .topLevel
        tracer.extract(request.headers, into: &parent, using: RequestHeaderExtractor())
        let route = context.endpointPath ?? "route not found"
        let span = tracer.startSpan("\(request.method.rawValue) \(route)", context: parent, ofKind: .server)
        defer { span.end() }
        if span.isRecording {
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["http.route"] = context.endpointPath
            if let user = context.parameters.get("user_id").flatMap(PercentDecoding.decode) {
                span.attributes["presence.user_hash"] = TracedUserID.hash(user)
            }
        }
        do {
            let response = try await ServiceContext.$current.withValue(span.context) { try await next(request, context) }
            if span.isRecording {
                span.attributes["http.response.status_code"] = Int(response.status.code)
                span.attributes["presence.request_id"] = response.headers[.xRequestID]
                if response.status.code >= 500 { span.setStatus(.init(code: .error)) }
            }
            return response
        } catch {
            // The error middleware is inside: only what it could not render gets here.
            span.recordError(error)
            span.setStatus(.init(code: .error))
            throw error
        }
    }
}

extension RequestTracingMiddleware {
    static var traceparent: HTTPField.Name { HTTPField.Name("traceparent")! }
}

/// Reads a trace context header from a request.
private struct RequestHeaderExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
