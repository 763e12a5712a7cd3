import Foundation
import Logging
import NIOConcurrencyHelpers
import PresenceAuth
import PresenceCore
import Synchronization

/// `GET /api/v2/connect` of one node (SPEC §3b): what every socket shares. It decides which
/// upgrades are admitted, counts the sockets, keeps the sessions they hold
/// (``SocketSessionRegistry``) and gives sockets the API's write path (``PresenceWriter``:
/// the same validation, rate limit and store as the REST routes) and the change hub.
public final class SocketEndpoint: Sendable {
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
    /// A change the server makes for the socket (heartbeats, session ends): not rate-limited.
    let apply: @Sendable (PresenceChange, UserID) async throws(PresenceError) -> StoredPresence
    /// A user's record.
    let read: @Sendable (UserID) async throws(PresenceError) -> StoredPresence?
    private let connections = Atomic(0)
    private let draining = Atomic(false)

    /// The endpoint over the REST API's writer.
    /// - Parameters:
    ///   - api: the API's settings (write rate, CORS origins).
    ///   - hub: the change hub the store publishes to (the SSE streams' too).
    public init<Repository: PresenceRepository>(
        writer: PresenceWriter<Repository>, verifier: TokenVerifier, hub: PresenceChangeHub, settings: SocketSettings,
        api: PresenceAPISettings, metrics: SocketMetrics, clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) {
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
        self.apply = { change, user throws(PresenceError) in try await repository.apply(change, to: user, ifMatch: nil) }
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
        if draining.load(ordering: .relaxed) {
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

    /// The node drains: no more sockets, and sessions waiting out their grace end now.
    func beginDrain() {
        guard !draining.exchange(true, ordering: .relaxed) else { return }
        for end in sessions.takeGraces() { end() }
    }

    // MARK: Session ends

    /// Ends a socket's session (a durable write). A failure is logged: the session then
    /// expires by its `ttl` like any other.
    func endSession(_ key: SocketSessionRegistry.Key, reason: SocketMetrics.EndReason) async {
        do throws(PresenceError) {
            _ = try await apply(.endSession(key.session), key.user)
            metrics.sessionEnded(reason)
        } catch where error.code == .notFound {
            // Ended already (a DELETE, or it expired).
        } catch {
            logger.warning(
                "could not end a connected socket's session; it ends by expiry",
                metadata: ["user": "\(key.user)", "session": "\(key.session)", "error": "\(error.message)"])
        }
    }

    /// Ends a dropped socket's session after its grace, unless it was refreshed since the drop
    /// (another socket said hello for it, here or on another node, or heartbeats it).
    func endAfterGrace(_ key: SocketSessionRegistry.Key, droppedAt: Timestamp) async {
        do throws(PresenceError) {
            guard let stored = try await read(key.user), let session = stored.userPresence.session(key.session) else {
                return
            }
            guard max(session.updatedAt, session.lastSeen) <= droppedAt else { return }
        } catch {
            // Cannot tell: end it (what a drop without a takeover means).
        }
        await endSession(key, reason: .grace)
    }

    /// A session id for a hello that names none.
    static func newSessionID() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        // Only hexadecimal digits after the prefix: always a valid id.
        return (try? SessionID(validating: "ws-" + suffix)) ?? SessionID.defaultSession
    }
}
