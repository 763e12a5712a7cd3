import Hummingbird
import PresenceAuth
import PresenceCore

/// `GET /api/v2/audit` (SPEC §3c): the audit trail, for admin tokens only.
///
/// Query: `user` (one user's entries; all users' without it), `since` (RFC 3339; the oldest
/// kept without it), `after` (the `next` of an earlier page) and `limit` (1…1000, default
/// 100). Answers `{"entries":[…],"more":bool,"next":"…"}` in stored order; `more` says there
/// may be more: ask again with `after` set to `next`.
struct AuditController<Repository: PresenceRepository>: Sendable {
    let repository: Repository
    let verifier: TokenVerifier

    /// The entries served when the request names no `limit`.
    static var defaultLimit: Int { 100 }

    func addRoutes(to group: RouterGroup<PresenceRequestContext>) {
        group.add(middleware: TokenAuthenticator(verifier: verifier, tokenRequired: true))
        group.get(use: read)
    }

    @Sendable func read(_ request: Request, context: PresenceRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard identity.isAdmin else { throw PresenceError(.forbidden, "the audit trail needs an admin token") }
        let query = try Self.query(request.uri.query)
        let page = try await repository.auditEntries(query)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(jsonLine: page.encoded())))
    }

    /// The query of `GET /api/v2/audit`, validated.
    static func query(_ text: String?) throws(PresenceError) -> AuditQuery {
        let user = try QueryString.value(of: "user", in: text).map { (raw: String) throws(PresenceError) in
            try UserID(validating: raw)
        }
        var since: Timestamp?
        if let raw = QueryString.value(of: "since", in: text) {
            guard let time = RFC3339.parse(raw) else {
                throw PresenceError(.badRequest, "since must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
            }
            since = time
        }
        var limit = defaultLimit
        if let raw = QueryString.value(of: "limit", in: text) {
            guard let value = Int(raw), (1...AuditQuery.maxLimit).contains(value) else {
                throw PresenceError(.badRequest, "limit must be a whole number from 1 to \(AuditQuery.maxLimit)")
            }
            limit = value
        }
        var after: AuditCursor?
        if let raw = QueryString.value(of: "after", in: text) {
            guard let cursor = AuditCursor(raw) else {
                throw PresenceError(.badRequest, "after must be the next of an earlier page, e.g. 1523.4")
            }
            after = cursor
        }
        return AuditQuery(user: user, since: since, after: after, limit: limit)
    }
}
