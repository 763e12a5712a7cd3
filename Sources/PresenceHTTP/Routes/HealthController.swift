import Hummingbird
import PresenceCore

/// `/health/live`, `/health/ready` and `/health/info`.
public struct HealthController<Repository: PresenceRepository>: Sendable {
    let repository: Repository
    let drain: HTTPDrain
    let info: @Sendable () async -> NodeInfo
    let keysMissing: @Sendable () -> String?

    /// Creates the controller; `info` assembles the body of `/health/info`.
    /// - Parameters:
    ///   - drain: once it has begun (graceful shutdown), `/health/ready` says not ready.
    ///   - keysMissing: why token keys are missing (``PresenceAuth/TokenKeys/missing``); while it says
    ///     something, `/health/ready` says not ready with that reason.
    public init(
        repository: Repository, drain: HTTPDrain = HTTPDrain(), keysMissing: @escaping @Sendable () -> String? = { nil },
        info: @escaping @Sendable () async -> NodeInfo
    ) {
        self.repository = repository
        self.drain = drain
        self.keysMissing = keysMissing
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
        let reason = readiness.isReady ? keysMissing() : readiness.reason ?? "not ready"
        guard let reason else { return Response.json(Array(#"{"ready":true}"#.utf8)) }
        var out = Array(#"{"ready":false,"reason":"#.utf8)
        JSONString.append(reason, to: &out)
        out.append(UInt8(ascii: "}"))
        return Response.json(out, status: .serviceUnavailable, headers: [.retryAfter: "1"])
    }
}
