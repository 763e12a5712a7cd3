import Hummingbird
import PresenceCore

/// Builds the router of a presence node: the API under `/api/v2/presence`, health under
/// `/health`, errors rendered as the spec's error body.
public func buildPresenceRouter<Repository: PresenceRepository>(
    controller: PresenceController<Repository>, health: HealthController<Repository>
) -> Router<PresenceRequestContext> {
    let router = Router(context: PresenceRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    controller.addRoutes(to: router.group("api/v2/presence"))
    health.addRoutes(to: router.group("health"))
    return router
}
