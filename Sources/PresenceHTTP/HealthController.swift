import Hummingbird
import PresenceCore

/// `/health/live`, `/health/ready` and `/health/info`.
public struct HealthController<Repository: PresenceRepository>: Sendable {
    let repository: Repository
    let drain: HTTPDrain
    let info: @Sendable () async -> NodeInfo

    /// Creates the controller; `info` assembles the body of `/health/info`.
    /// - Parameter drain: once it has begun (graceful shutdown), `/health/ready` says not ready.
    public init(repository: Repository, drain: HTTPDrain = HTTPDrain(), info: @escaping @Sendable () async -> NodeInfo) {
        self.repository = repository
        self.drain = drain
        self.info = info
    }

    /// Adds the routes to `group` (mounted at `/health`).
    public func addRoutes(to group: RouterGroup<PresenceRequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            group.on("live", method: method) { _, _ in Response.json(Array(#"{"status":"ok"}"#.utf8)) }
            group.on("ready", method: method) { _, _ in readyResponse() }
            group.on("info", method: method) { _, _ in Response.json(await info().json) }
        }
    }

    private func readyResponse() -> Response {
        if drain.isDraining {
            return Response.json(
                Array(#"{"ready":false,"reason":"shutting down"}"#.utf8), status: .serviceUnavailable,
                headers: [.retryAfter: "1"])
        }
        let readiness = repository.readiness()
        if readiness.isReady { return Response.json(Array(#"{"ready":true}"#.utf8)) }
        var out = Array(#"{"ready":false,"reason":"#.utf8)
        JSONString.append(readiness.reason ?? "not ready", to: &out)
        out.append(UInt8(ascii: "}"))
        return Response.json(out, status: .serviceUnavailable, headers: [.retryAfter: "1"])
    }
}
