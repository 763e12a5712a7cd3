import Foundation
import Logging
import NIOConcurrencyHelpers
import PresenceAuth
import PresenceCore
import ServiceLifecycle
import Synchronization

/// `GET /api/v2/connect` of one node (SPEC §3b): what every socket shares. It decides which
/// upgrades are admitted, counts the sockets, keeps the sessions they hold
/// (``SocketSessionRegistry``) and gives sockets the API's write path (``PresenceWriter``:
/// the same validation, rate limit and store as the REST routes) and the change hub.
///
/// It is a service of the node, listed after the store's so that it stops before them: when
/// graceful shutdown begins it refuses new sockets, and once the HTTP server has closed every
/// socket (each ends its session first) it ends the sessions still in their reconnect grace
/// and waits for every session end in flight.
public final class SocketEndpoint: Service, Sendable {
    /// The path of the upgrade.
    public static let path = "/api/v2/connect"

    let settings: SocketSettings
    let verifier: TokenVerifier
    let hub: PresenceChangeHub
    let metrics: SocketMetrics
    let sessions = SocketSessionRegistry()
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    /// Per-socket command rate (`rate_limit.writes_per_second`, `rate_limit.write_burst`).
    let commandRate: (perSecond: Double, burst: Int)
    private let allowedOrigins: [String]
    /// A change through the API's write path (rate-limited per subject).
    let write: @Sendable (PresenceChange, UserID, TokenVerifier.Identity) async throws(PresenceError) -> StoredPresence
    /// A change the server makes for the socket (heartbeats; session ends, with the revision
    /// they read as precondition): not rate-limited.
    let apply: @Sendable (PresenceChange, UserID, RevisionMatch?) async throws(PresenceError) -> StoredPresence
    /// A user's record.
    let read: @Sendable (UserID) async throws(PresenceError) -> StoredPresence?
    private let connections = Atomic(0)
    private let draining = Atomic(false)
    /// Set when the HTTP server begins to drain (before any socket hears of it).
    private let httpDrain: HTTPDrain?
    /// Session ends in flight, awaited before the node's store stops.
    private let ends = NIOLockedValueBox<(next: Int, tasks: [Int: Task<Void, Never>])>((0, [:]))

    /// The endpoint over the REST API's writer.
    /// - Parameters:
    ///   - api: the API's settings (write rate, CORS origins).
    ///   - hub: the change hub the store publishes to (the SSE streams' too).
    ///   - drain: the HTTP server's drain (a socket upgraded while it drains is closed at once).
    public init<Repository: PresenceRepository>(
        writer: PresenceWriter<Repository>, verifier: TokenVerifier, hub: PresenceChangeHub, settings: SocketSettings,
        api: PresenceAPISettings, metrics: SocketMetrics, drain: HTTPDrain? = nil,
        clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) {
        self.httpDrain = drain
        self.settings = settings
        self.verifier = verifier
        self.hub = hub
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        self.commandRate = (api.writesPerSecond, api.writeBurst)
        self.allowedOrigins = api.corsAllowedOrigins
        self.write = { change, user, identity throws(PresenceError) in
            try await writer.write(change, to: user, by: identity)
        }
        let repository = writer.repository
        self.apply = { change, user, ifMatch throws(PresenceError) in
            try await repository.apply(change, to: user, ifMatch: ifMatch)
        }
        self.read = { user throws(PresenceError) in try await repository.presence(of: user) }
    }

    // MARK: Admission

    /// Why an upgrade to the socket with this `Origin` is refused now, nil when it is
    /// admitted: 403 for an origin not in `service.http.cors.allowed_origins` (when that list is
    /// set; a request without `Origin` is not a browser's), 503 while the node drains or holds
    /// `service.ws.max_connections` sockets (with its SSE streams: both are long-lived).
    public func refusal(origin: String?) -> PresenceError? {
        if let origin, !allowedOrigins.isEmpty, !allowedOrigins.contains("*"), !allowedOrigins.contains(origin) {
            return PresenceError(.forbidden, "this origin may not open a presence socket")
        }
        if isDraining {
            return PresenceError(.unavailable, "the node is shutting down; connect to another", retryAfter: 1)
        }
        if settings.maxConnections > 0,
            connections.load(ordering: .relaxed) + hub.subscriberCount >= settings.maxConnections
        {
            return PresenceError(.unavailable, "this node holds as many sockets as it may; try again later", retryAfter: 5)
        }
        return nil
    }

    /// Takes a place for a socket; false when it would pass `service.ws.max_connections`.
    func reserve() -> Bool {
        let count = connections.wrappingAdd(1, ordering: .relaxed).newValue
        if settings.maxConnections > 0, count > settings.maxConnections {
            connections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        metrics.connections.increment()
        return true
    }

    /// Gives a socket's place back.
    func release() {
        connections.wrappingSubtract(1, ordering: .relaxed)
        metrics.connections.decrement()
    }

    /// Sockets open now.
    public var connectionCount: Int { connections.load(ordering: .relaxed) }

    /// Whether the node drains (graceful shutdown began).
    var isDraining: Bool { draining.load(ordering: .relaxed) || (httpDrain?.isDraining ?? false) }

    /// Waits for graceful shutdown, then drains: see the type's description.
    public func run() async throws {
        try? await gracefulShutdown()
        draining.store(true, ordering: .relaxed)
        for end in sessions.takeGraces() { end() }
        while let (id, task) = ends.withLockedValue({ $0.tasks.first }) {
            await task.value
            _ = ends.withLockedValue { $0.tasks.removeValue(forKey: id) }
        }
    }

    // MARK: Session ends

    /// Ends a socket's session (a durable write), in a task the drain waits for: only while
    /// the session is still the socket's (``SocketSessionStamp``: nobody refreshed it since the
    /// socket last wrote it), and only if no write landed between the read and the end (the
    /// end is conditional on the revision read). A failure is logged: the session then expires
    /// by its `ttl` like any other.
    /// - Returns: the end's task, for a caller that waits for it.
    @discardableResult
    /// - Parameter refreshing: the socket's heartbeat in flight, if any: waited for first, so
    ///   that the time it writes is the socket's own.
    func end(
        _ key: SocketSessionRegistry.Key, stamp: SocketSessionStamp, reason: SocketMetrics.EndReason,
        after refreshing: Task<Void, Never>? = nil
    ) -> Task<Void, Never> {
        ends.withLockedValue { state in
            state.next += 1
            let id = state.next
            // Created under the lock, so it is listed before it can remove itself.
            let task = Task {
                await refreshing?.value
                await self.endIfOurs(key, stamp: stamp, reason: reason)
                _ = self.ends.withLockedValue { $0.tasks.removeValue(forKey: id) }
            }
            state.tasks[id] = task
            return task
        }
    }

    private func endIfOurs(_ key: SocketSessionRegistry.Key, stamp: SocketSessionStamp, reason: SocketMetrics.EndReason) async {
        do throws(PresenceError) {
            guard let stored = try await read(key.user), let session = stored.userPresence.session(key.session),
                stamp.isOurs(session)
            else { return }
            _ = try await apply(.endSession(key.session), key.user, .revision(stored.revision))
            metrics.sessionEnded(reason)
        } catch where error.code == .notFound || error.code == .preconditionFailed {
            // Ended already (a DELETE, or it expired), or written meanwhile (taken over).
        } catch {
            logger.warning(
                "could not end a connected socket's session; it ends by expiry",
                metadata: ["user": "\(key.user)", "session": "\(key.session)", "error": "\(error.message)"])
        }
    }

    /// A session id for a hello that names none.
    static func newSessionID() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        // Only hexadecimal digits after the prefix: always a valid id.
        return (try? SessionID(validating: "ws-" + suffix)) ?? SessionID.defaultSession
    }
}
