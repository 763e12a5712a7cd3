import Hummingbird
import Logging
import PresenceCore

/// Turns every error a route throws into the spec's error body, so clients never see an
/// empty body, a framework message or internal detail.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as PresenceError {
            if error.code == .internal {
                context.logger.error("request failed", metadata: ["code": "\(error.code)"])
            }
            return error.response
        } catch let error as any HTTPResponseError {
            return Self.presenceError(for: error.status).response
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return PresenceError(.internal, "the server could not handle the request").response
        }
    }

    static func presenceError(for status: HTTPResponse.Status) -> PresenceError {
        switch status {
        case .notFound: PresenceError(.notFound, "no such resource")
        case .contentTooLarge: PresenceError(.payloadTooLarge, "the request body is too large")
        case .unsupportedMediaType: PresenceError(.unsupportedMediaType, "the request body must be JSON")
        case .methodNotAllowed: PresenceError(.badRequest, "method not allowed on this resource")
        case .unauthorized: PresenceError(.unauthorized, "a valid bearer token is required")
        case .serviceUnavailable: PresenceError(.unavailable, "the service is unavailable", retryAfter: 1)
        case let status where (400..<500).contains(status.code): PresenceError(.badRequest, "the request is malformed")
        default: PresenceError(.internal, "the server could not handle the request")
        }
    }
}
