import Hummingbird
import PresenceCore

/// Builds the router of a presence node: the API under `/api/v2/presence`, health under
/// `/health`, `/metrics`, errors rendered as the spec's error body, every request measured,
/// 405 with `Allow` for another method on a known path.
/// - Parameters:
///   - sockets: `GET /api/v2/connect`; the router answers the upgrades it refused.
///   - metricsText: renders the Prometheus text exposition for `GET /metrics`.
public func buildPresenceRouter<Repository: PresenceRepository>(
    controller: PresenceController<Repository>, sockets: SocketEndpoint? = nil, health: HealthController<Repository>,
    metricsText: @escaping @Sendable () async -> [UInt8], logRequests: Bool = false
) -> Router<PresenceRequestContext> {
    let router = Router(context: PresenceRequestContext.self)
    // Outermost: the span covers the whole answer, and sees its status and request id.
    if let tracer = controller.tracer {
        router.add(middleware: RequestTracingMiddleware(tracer: tracer, sampleRatio: controller.tracingSampleRatio))
    }
    router.add(middleware: HTTPMetricsMiddleware(metrics: controller.metrics))
    router.add(middleware: RequestIDMiddleware())
    // Outside the error middleware, so error answers carry the CORS headers too.
    if !controller.settings.corsAllowedOrigins.isEmpty {
        router.add(middleware: CrossOriginMiddleware(allowedOrigins: controller.settings.corsAllowedOrigins))
    }
    // One line per request at debug level (only installed then, so it costs nothing
    // otherwise); headers, and so tokens, are never logged.
    if logRequests { router.add(middleware: LogRequestsMiddleware(.debug)) }
    router.add(middleware: HeadRequestMiddleware())
    router.add(middleware: ErrorMiddleware())
    controller.addRoutes(to: router.group("api/v2/presence"))
    AuditController(repository: controller.repository, verifier: controller.verifier).addRoutes(to: router.group("api/v2/audit"))
    if let sockets {
        // An upgrade the socket endpoint admitted never reaches the router: what comes here
        // was refused, or is no upgrade, or came on a connection used before.
        router.get("api/v2/connect") { request, _ -> Response in
            if let refusal = sockets.refusal(origin: request.headers[.origin]) { throw refusal }
            throw PresenceError(
                .badRequest,
                "GET /api/v2/connect is a WebSocket upgrade (Upgrade: websocket, Sec-WebSocket-Key, Sec-WebSocket-Version: 13) as the first request of a connection")
        }
    }
    health.addRoutes(to: router.group("health"))
    for method in [HTTPRequest.Method.get, .head] {
        router.on("openapi.yaml", method: method) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.on("docs", method: method) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: APIReferencePage.html)))
        }
        router.on("/", method: method) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: rootPage)))
        }
        router.on("metrics", method: method) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await metricsText())))
        }
    }
    // Last, so that it wraps only the not-found responder: 405 for a known path.
    let routes = RouteTable(router.routes.map { (path: $0.path.description, method: $0.method.rawValue) })
    router.add(middleware: MethodNotAllowedMiddleware(routes: routes))
    return router
}

/// `GET /`: where to go from here.
let rootPage = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>swift-presence</title></head>
    <body><h1>swift-presence</h1>
    <ul><li><a href="/docs">API reference</a></li><li><a href="/health/info">This node</a></li>
    <li><a href="/openapi.yaml">OpenAPI document</a></li><li><a href="/metrics">Metrics</a></li></ul>
    </body></html>

    """
