import Hummingbird
import PresenceCore

/// The per-client read limit (`rate_limit.reads_per_second`, keyed on the peer's address):
/// past it a read is 429 with `Retry-After`. On the read routes, after the token where reads
/// need one and before anything else where they are public, so a flood of reads is turned
/// away before any token it carries is verified.
struct ReadLimitMiddleware: RouterMiddleware {
    typealias Context = PresenceRequestContext

    let limiter: RateLimiter
    let metrics: HTTPMetrics
    let clock: @Sendable () -> Timestamp

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if case .limited(let retryAfter) = limiter.acquire(client, now: clock()) {
            metrics.readsRateLimited.increment()
            throw PresenceError(.rateLimited, "too many reads from this address; slow down", retryAfter: retryAfter)
        }
        return try await next(request, context)
    }
}
