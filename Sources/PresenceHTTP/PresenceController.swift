import Hummingbird
import PresenceCore

/// The routes of `/api/v2/presence`, generic over the store behind them.
///
/// Every request is validated completely before the store is touched; errors are thrown as
/// ``PresenceError`` and rendered by ``ErrorMiddleware``.
public struct PresenceController<Repository: PresenceRepository>: Sendable {
    let repository: Repository
    let changes: PresenceChangeHub
    let verifier: TokenVerifier
    let settings: PresenceAPISettings
    let writeLimiter: RateLimiter
    let readLimiter: RateLimiter
    let metrics: HTTPMetrics
    /// Stream handlers still running (a subscriber cut off for reading too slowly keeps its
    /// handler until its connection is closed), so a client cannot get around the stream cap.
    let openStreams = StreamCounter()
    let clock: @Sendable () -> Timestamp

    /// Creates the controller.
    /// - Parameters:
    ///   - changes: the hub the store publishes changes to; streams subscribe to it.
    ///   - metrics: where requests and rate-limit rejections are counted.
    public init(
        repository: Repository, changes: PresenceChangeHub, verifier: TokenVerifier, settings: PresenceAPISettings,
        metrics: HTTPMetrics, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        self.metrics = metrics
        self.repository = repository
        self.changes = changes
        self.verifier = verifier
        self.settings = settings
        self.writeLimiter = RateLimiter(ratePerSecond: settings.writesPerSecond, burst: settings.writeBurst)
        self.readLimiter = RateLimiter(ratePerSecond: settings.readsPerSecond, burst: settings.readBurst)
        self.clock = clock
    }

    /// Adds the routes to `group` (mounted at `/api/v2/presence`).
    public func addRoutes(to group: RouterGroup<PresenceRequestContext>) {
        group.get(use: readMany)
        group.head(use: readMany)
        group.get("stream", use: stream)
        group.post("batch", use: readBatch)
        group.get(":user_id", use: readOne)
        group.head(":user_id", use: readOne)
        group.put(":user_id", use: put)
        group.post(":user_id/heartbeat", use: heartbeat)
        group.delete(":user_id", use: delete)
        // The constant segments `batch` and `stream` would shadow users with those ids: route
        // their other methods to the single-user handlers (only GET …/stream and POST
        // …/batch are taken).
        for reserved in ["batch", "stream"] {
            let alias = Self.alias(reserved)
            if reserved != "stream" {
                group.get(RouterPath(stringLiteral: reserved), use: alias(readOne))
                group.head(RouterPath(stringLiteral: reserved), use: alias(readOne))
            }
            group.put(RouterPath(stringLiteral: reserved), use: alias(put))
            group.delete(RouterPath(stringLiteral: reserved), use: alias(delete))
            group.post(RouterPath(stringLiteral: reserved + "/heartbeat"), use: alias(heartbeat))
        }
    }

    private typealias Handler = @Sendable (Request, PresenceRequestContext) async throws -> Response

    /// A handler that runs `handler` as if the path's user id were `user`.
    private static func alias(_ user: String) -> (@escaping Handler) -> Handler {
        { handler in
            { request, context in
                var context = context
                context.coreContext.parameters.append(key: "user_id", value: Substring(user))
                return try await handler(request, context)
            }
        }
    }

    // MARK: Reads

    @Sendable func readOne(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        try await authorizeRead(request, context: context)
        let user = try Self.pathUser(context)
        guard let stored = try await repository.presence(of: user) else {
            throw PresenceError(.notFound, "no presence record for this user")
        }
        let now = clock()
        let expired = stored.isExpired(at: now)
        if !expired, let ifNoneMatch = request.headers[.ifNoneMatch],
            EntityTag.ifNoneMatch(ifNoneMatch, matches: stored.revision)
        {
            return Response(status: .notModified, headers: [.eTag: EntityTag.of(stored)])
        }
        let headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8", .eTag: EntityTag.of(stored), .cacheControl: "no-cache",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(jsonLine: stored.body(at: now))))
    }

    @Sendable func readMany(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        try await authorizeRead(request, context: context)
        let users = try UserIDList.fromQuery(request.uri.query, limit: PresenceLimits.maxUsersPerQuery)
        return try await batchResponse(for: users)
    }

    @Sendable func readBatch(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        try await authorizeRead(request, context: context)
        let body = try await RequestBody.json(request, limit: PresenceLimits.maxBatchBodyBytes)
        return try await batchResponse(for: try BatchRequestBody(json: body).userIDs)
    }

    private func batchResponse(for users: [UserID]) async throws -> Response {
        let now = clock()
        var out = [UInt8]()
        out.reserveCapacity(64 + users.count * 200)
        out.append(contentsOf: #"{"presences":["#.utf8)
        var missing = [UserID]()
        var first = true
        for user in users {
            guard let stored = try await repository.presence(of: user) else {
                missing.append(user)
                continue
            }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: stored.body(at: now))
        }
        out.append(contentsOf: #"],"not_found":["#.utf8)
        for (index, user) in missing.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONString.append(user.rawValue, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return .json(out)
    }

    // MARK: Writes

    @Sendable func put(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try await authorizeWrite(request, context: context)
        let body = try PresenceUpdateBody(
            json: try await RequestBody.json(request, limit: PresenceLimits.maxWriteBodyBytes),
            defaultTTL: settings.defaultTTL)
        let change = PresenceChange.set(status: body.status, message: body.message, ttl: body.ttl)
        return try await write(change, to: user, by: identity, request: request)
    }

    @Sendable func heartbeat(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try await authorizeWrite(request, context: context)
        return try await write(.heartbeat, to: user, by: identity, request: request)
    }

    @Sendable func delete(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try await authorizeWrite(request, context: context)
        return try await write(.goOffline, to: user, by: identity, request: request)
    }

    /// Takes a rate-limit token (only for requests that passed every check, so a flood of bad
    /// requests never blocks good ones) and applies the change.
    private func write(
        _ change: PresenceChange, to user: UserID, by identity: TokenVerifier.Identity, request: Request
    ) async throws -> Response {
        if case .limited(let retryAfter) = writeLimiter.acquire(identity.subject, now: clock()) {
            metrics.writesRateLimited.increment()
            throw PresenceError(.rateLimited, "too many writes; slow down", retryAfter: retryAfter)
        }
        let ifMatch = EntityTag.parseIfMatch(request.headers[.ifMatch])
        let stored = try await repository.apply(change, to: user, ifMatch: ifMatch)
        return .json(stored.body(at: clock()), headers: [.eTag: EntityTag.of(stored)])
    }

    // MARK: Checks

    /// Token (401), path id (400), ownership or admin scope (403), in that order. The rate
    /// limit (429) is checked in ``write(_:to:by:request:)`` once the body is valid too.
    private func authorizeWrite(_ request: Request, context: PresenceRequestContext) async throws
        -> (TokenVerifier.Identity, UserID)
    {
        let identity = try await verifier.verify(authorization: request.headers[.authorization])
        let user = try Self.pathUser(context)
        guard identity.isAdmin || user.isIdentical(to: identity.subject) else {
            throw PresenceError(.forbidden, "this token may only change the presence of its own subject")
        }
        return (identity, user)
    }

    func authorizeRead(_ request: Request, context: PresenceRequestContext) async throws {
        if !settings.publicReads {
            _ = try await verifier.verify(authorization: request.headers[.authorization])
        }
        if settings.readsPerSecond > 0 {
            let client = context.remoteAddress?.ipAddress ?? "unknown"
            if case .limited(let retryAfter) = readLimiter.acquire(client, now: clock()) {
                metrics.readsRateLimited.increment()
                throw PresenceError(.rateLimited, "too many reads from this address; slow down", retryAfter: retryAfter)
            }
        }
    }

    private static func pathUser(_ context: PresenceRequestContext) throws(PresenceError) -> UserID {
        guard let raw = context.parameters.get("user_id"),
            let decoded = PercentDecoding.decode(raw)
        else {
            throw PresenceError(.invalidUserID, "the user id in the path is not valid")
        }
        return try UserID(validating: decoded)
    }
}
