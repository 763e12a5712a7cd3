import PresenceAuth
import PresenceCore

/// The one way a client's change reaches the store, for the REST routes and connected sockets
/// alike: the per-subject write rate limit (taken only by a change that passed every other
/// check, so a flood of bad requests never blocks good ones), then the repository.
public struct PresenceWriter<Repository: PresenceRepository>: Sendable {
    /// The store.
    public let repository: Repository
    let limiter: RateLimiter
    let metrics: HTTPMetrics
    let clock: @Sendable () -> Timestamp

    /// A writer over `repository` with the write rate of `settings`.
    public init(
        repository: Repository, settings: PresenceAPISettings, metrics: HTTPMetrics,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.repository = repository
        self.limiter = RateLimiter(ratePerSecond: settings.writesPerSecond, burst: settings.writeBurst)
        self.metrics = metrics
        self.clock = clock
    }

    /// Takes a rate-limit token of the identity's subject and applies the change, as made by
    /// `identity` in the request ``AuditActor/requestID`` names (for the audit trail).
    /// - Returns: the record as stored.
    /// - Throws: `rate_limited` (with a retry time), or what the repository refuses.
    public func write(
        _ change: PresenceChange, to user: UserID, by identity: TokenVerifier.Identity, ifMatch: RevisionMatch? = nil
    ) async throws(PresenceError) -> StoredPresence {
        if case .limited(let retryAfter) = limiter.acquire(identity.subject, now: clock()) {
            metrics.writesRateLimited.increment()
            throw PresenceError(.rateLimited, "too many writes; slow down", retryAfter: retryAfter)
        }
        let actor = AuditActor(
            subject: identity.subject, issuer: identity.issuer, scopes: identity.scopes, requestID: AuditActor.requestID)
        // The task-local's scope does not carry a typed error: the outcome travels as a Result.
        let outcome = await AuditActor.$current.withValue(actor) { () async -> Result<StoredPresence, PresenceError> in
            do throws(PresenceError) {
                return .success(try await repository.apply(change, to: user, ifMatch: ifMatch))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
