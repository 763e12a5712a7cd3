import Hummingbird
import PresenceAuth
import PresenceCore
import Tracing

/// The routes of `/api/v2/presence`, generic over the store behind them.
///
/// Every request is validated completely before the store is touched; errors are thrown as
/// ``PresenceError`` and rendered by ``ErrorMiddleware``. Tokens are verified by
/// ``TokenAuthenticator`` before the handlers, which read the identity from the context.
public struct PresenceController<Repository: PresenceRepository>: Sendable {
    let repository: Repository
    let changes: PresenceChangeHub
    let verifier: TokenVerifier
    let settings: PresenceAPISettings
    /// The write path, shared with connected sockets.
    public let writer: PresenceWriter<Repository>
    let readLimiter: RateLimiter
    let metrics: HTTPMetrics
    /// Stream handlers still running (a subscriber cut off for reading too slowly keeps its
    /// handler until its connection is closed), so a client cannot get around the stream cap.
    let openStreams = StreamCounter()
    let clock: @Sendable () -> Timestamp
    /// The tracer of requests and token checks; nil: no tracing.
    let tracer: (any Tracer)?
    /// Share of requests without a `traceparent` that are traced.
    let tracingSampleRatio: Double

    /// Creates the controller.
    /// - Parameters:
    ///   - changes: the hub the store publishes changes to; streams subscribe to it.
    ///   - metrics: where requests and rate-limit rejections are counted.
    ///   - tracer: traces requests and their token checks (``RequestTracingMiddleware``); nil: none.
    ///   - tracingSampleRatio: share of requests without a `traceparent` that are traced.
    public init(
        repository: Repository, changes: PresenceChangeHub, verifier: TokenVerifier, settings: PresenceAPISettings,
        metrics: HTTPMetrics, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }, tracer: (any Tracer)? = nil,
        tracingSampleRatio: Double = 1
    ) {
        self.tracer = tracer
        self.tracingSampleRatio = tracingSampleRatio
        self.metrics = metrics
        self.repository = repository
        self.changes = changes
        self.verifier = verifier
        self.settings = settings
        self.writer = PresenceWriter(repository: repository, settings: settings, metrics: metrics, clock: clock)
        self.readLimiter = RateLimiter(ratePerSecond: settings.readsPerSecond, burst: settings.readBurst)
        self.clock = clock
    }

    /// Adds the routes to `group` (mounted at `/api/v2/presence`).
    ///
    /// Writes need a valid token (401 first, before the path, ownership and body are
    /// checked). Reads need one too without `auth.public_reads`, checked before the read
    /// limit; with public reads the read limit comes first, and only a single user's read
    /// looks at a token, which it may carry to read as the owner (or must, for
    /// `include=sessions`).
    public func addRoutes(to group: RouterGroup<PresenceRequestContext>) {
        let tokenRequired = TokenAuthenticator(verifier: verifier, tokenRequired: true, tracer: tracer)
        let reads = group.group()
        let userReads: RouterGroup<PresenceRequestContext>
        if !settings.publicReads { reads.add(middleware: tokenRequired) }
        if settings.readsPerSecond > 0 {
            reads.add(middleware: ReadLimitMiddleware(limiter: readLimiter, metrics: metrics, clock: clock))
        }
        if settings.publicReads {
            userReads = reads.group().add(middleware: TokenAuthenticator(verifier: verifier, tokenRequired: false, tracer: tracer))
        } else {
            userReads = reads
        }
        let writes = group.group().add(middleware: tokenRequired)
        reads.get(use: readMany)
        reads.head(use: readMany)
        reads.get("stream", use: stream)
        reads.post("batch", use: readBatch)
        userReads.get(":user_id", use: readOne)
        userReads.head(":user_id", use: readOne)
        writes.put(":user_id", use: put)
        writes.post(":user_id/heartbeat", use: heartbeat)
        writes.delete(":user_id", use: delete)
        writes.put(":user_id/sessions/:session_id", use: putSession)
        writes.post(":user_id/sessions/:session_id/heartbeat", use: heartbeatSession)
        writes.delete(":user_id/sessions/:session_id", use: deleteSession)
        // The constant segments `batch` and `stream` would shadow users with those ids: route
        // their other methods to the single-user handlers (only GET …/stream and POST
        // …/batch are taken).
        for reserved in ["batch", "stream"] {
            let alias = Self.alias(reserved)
            if reserved != "stream" {
                userReads.get(RouterPath(stringLiteral: reserved), use: alias(readOne))
                userReads.head(RouterPath(stringLiteral: reserved), use: alias(readOne))
            }
            writes.put(RouterPath(stringLiteral: reserved), use: alias(put))
            writes.delete(RouterPath(stringLiteral: reserved), use: alias(delete))
            writes.post(RouterPath(stringLiteral: reserved + "/heartbeat"), use: alias(heartbeat))
            writes.put(RouterPath(stringLiteral: reserved + "/sessions/:session_id"), use: alias(putSession))
            writes.post(RouterPath(stringLiteral: reserved + "/sessions/:session_id/heartbeat"), use: alias(heartbeatSession))
            writes.delete(RouterPath(stringLiteral: reserved + "/sessions/:session_id"), use: alias(deleteSession))
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
        let user = try Self.pathUser(context)
        let includeSessions = try Self.includesSessions(request.uri.query)
        let isOwner = try Self.readsAsOwner(context, user: user, required: includeSessions)
        guard let stored = try await repository.presence(of: user) else {
            throw PresenceError(.notFound, "no presence record for this user")
        }
        let now = clock()
        let revision = isOwner ? stored.revision : stored.publicRevision(at: now)
        let heardAt = isOwner ? stored.heardAt : stored.publicHeardAt
        let current = !stored.isStale(at: now)
        if current, let ifNoneMatch = request.headers[.ifNoneMatch],
            EntityTag.ifNoneMatch(ifNoneMatch, matches: revision, heardAt: heardAt)
        {
            return Response(status: .notModified, headers: [.eTag: EntityTag.of(revision, heardAt: heardAt)])
        }
        let body = isOwner ? OwnerView.body(stored, at: now, includeSessions: includeSessions) : stored.body(at: now)
        let headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8", .eTag: EntityTag.of(revision, heardAt: heardAt),
            .cacheControl: "no-cache",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(jsonLine: body)))
    }

    /// Whether the read is the user's own (or an admin's): a valid token of the user or with
    /// the admin scope. A read without a token, or with one that does not verify, is public
    /// as before sessions; with `required` (`include=sessions`) they are 401 (or the 503 of
    /// keys not loaded yet), and another user's token is 403.
    private static func readsAsOwner(_ context: PresenceRequestContext, user: UserID, required: Bool) throws(PresenceError)
        -> Bool
    {
        let identity: TokenVerifier.Identity
        if required {
            identity = try context.requireIdentity(missing: "include=sessions needs the user's own token or an admin token")
        } else {
            guard let verified = context.identity else { return false }
            identity = verified
        }
        let isOwner = identity.isAdmin || user.isIdentical(to: identity.subject)
        if required && !isOwner {
            throw PresenceError(.forbidden, "only the user's own token or an admin token may list the sessions")
        }
        return isOwner
    }

    /// `include=sessions` asks for the session list; any other `include` is 400.
    private static func includesSessions(_ query: String?) throws(PresenceError) -> Bool {
        guard let include = QueryString.value(of: "include", in: query) else { return false }
        guard include == "sessions" else {
            throw PresenceError(.badRequest, "include accepts only sessions")
        }
        return true
    }

    @Sendable func readMany(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let users = try UserIDList.fromQuery(request.uri.query, limit: PresenceLimits.maxUsersPerQuery)
        return try await batchResponse(for: users)
    }

    @Sendable func readBatch(_ request: Request, context: PresenceRequestContext) async throws -> Response {
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
        let (identity, user) = try Self.authorizeWrite(context)
        let body = try await updateBody(request)
        return try await write(.set(.defaultSession, body.update), to: user, by: identity, request: request)
    }

    @Sendable func heartbeat(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try Self.authorizeWrite(context)
        return try await write(.heartbeat, to: user, by: identity, request: request)
    }

    /// Ends every session of the user ("sign out everywhere").
    @Sendable func delete(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try Self.authorizeWrite(context)
        return try await write(.endAll, to: user, by: identity, request: request)
    }

    @Sendable func putSession(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try Self.authorizeWrite(context)
        let session = try Self.pathSession(context)
        let body = try await updateBody(request)
        return try await write(.set(session, body.update), to: user, by: identity, request: request)
    }

    @Sendable func heartbeatSession(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try Self.authorizeWrite(context)
        let session = try Self.pathSession(context)
        return try await write(.heartbeat(session, sessionRequired: true), to: user, by: identity, request: request)
    }

    @Sendable func deleteSession(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let (identity, user) = try Self.authorizeWrite(context)
        let session = try Self.pathSession(context)
        return try await write(.endSession(session), to: user, by: identity, request: request)
    }

    private func updateBody(_ request: Request) async throws -> PresenceUpdateBody {
        try PresenceUpdateBody(
            json: try await RequestBody.json(request, limit: PresenceLimits.maxWriteBodyBytes),
            defaultTTL: settings.defaultTTL, now: clock())
    }

    /// Applies the change through ``writer`` (rate limit, then the store). The answer is the
    /// writer's own view (the writer is the user or an admin).
    private func write(
        _ change: PresenceChange, to user: UserID, by identity: TokenVerifier.Identity, request: Request
    ) async throws -> Response {
        let ifMatch = EntityTag.parseIfMatch(request.headers[.ifMatch])
        let stored = try await writer.write(change, to: user, by: identity, ifMatch: ifMatch)
        let body = OwnerView.body(stored, at: clock(), includeSessions: false)
        return .json(body, headers: [.eTag: EntityTag.of(stored.revision, heardAt: stored.heardAt)])
    }

    // MARK: Checks

    /// Token (401, by ``TokenAuthenticator``), path id (400), ownership or admin scope (403),
    /// in that order. The rate limit (429) is checked in ``write(_:to:by:request:)`` once the
    /// body is valid too.
    private static func authorizeWrite(_ context: PresenceRequestContext) throws(PresenceError)
        -> (TokenVerifier.Identity, UserID)
    {
        let identity = try context.requireIdentity()
        let user = try pathUser(context)
        guard identity.isAdmin || user.isIdentical(to: identity.subject) else {
            throw PresenceError(.forbidden, "this token may only change the presence of its own subject")
        }
        return (identity, user)
    }

    private static func pathSession(_ context: PresenceRequestContext) throws(PresenceError) -> SessionID {
        guard let raw = context.parameters.get("session_id"), let decoded = PercentDecoding.decode(raw) else {
            throw PresenceError(.invalidSessionID, "the session id in the path is not valid")
        }
        return try SessionID(validating: decoded)
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
