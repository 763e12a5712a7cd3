import HTTPTypes
import Hummingbird
import Logging
import PresenceCore

/// `X-Request-ID` (SPEC §3): the client's own, when it is 1–128 printable ASCII characters,
/// or a generated one; sent back on every answer the router gives (errors included) and put
/// on the request's log lines as `request_id`.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let id = request.headers[.xRequestID].flatMap(Self.accepted) ?? Self.generated()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        // The error middleware is inside: every error is an answer by the time it gets here.
        var response = try await AuditActor.$requestID.withValue(id) { try await next(request, context) }
        response.headers[.xRequestID] = id
        return response
    }

    /// A client's id as it may be echoed: 1–128 characters of printable ASCII.
    static func accepted(_ text: String) -> String? {
        let bytes = text.utf8
        guard (1...128).contains(bytes.count), bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return text
    }

    /// 32 random hexadecimal digits.
    static func generated() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
