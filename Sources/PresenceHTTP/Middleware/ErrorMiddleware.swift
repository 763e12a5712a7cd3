import Hummingbird
import Logging
import NIOHTTP1
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
            Self.log(error, context: context)
            return error.response
        } catch let error as HTTPParserError {
            // Malformed framing in the request body (a bad chunk size); ConnectionGuard closes
            // the connection after this response.
            let presenceError = PresenceError(framing: error)
            Self.log(presenceError, context: context)
            return presenceError.response
        } catch let error as any HTTPResponseError {
            let presenceError = Self.presenceError(for: error.status)
            Self.log(presenceError, context: context)
            return presenceError.response
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return PresenceError(.internal, "the server could not handle the request").response
        }
    }

    /// One line per error with its code: client errors at debug level (a flood of bad
    /// requests must not flood the log), server-side ones at warning or error.
    static func log(_ error: PresenceError, context: Context) {
        let metadata: Logger.Metadata = ["code": "\(error.code)", "status": "\(error.code.httpStatus.code)"]
        switch error.code {
        case .internal: context.logger.error("request failed", metadata: metadata)
        case .unavailable: context.logger.warning("request failed", metadata: metadata)
        default: context.logger.debug("request refused", metadata: metadata)
        }
    }

    static func presenceError(for status: HTTPResponse.Status) -> PresenceError {
        switch status {
        case .notFound: PresenceError(.notFound, "no such resource")
        case .contentTooLarge: PresenceError(.payloadTooLarge, "the request body is too large")
        case .unsupportedMediaType: PresenceError(.unsupportedMediaType, "the request body must be JSON")
        case .methodNotAllowed: PresenceError(.methodNotAllowed, "method not allowed on this resource")
        case .requestHeaderFieldsTooLarge: PresenceError(.headersTooLarge, "the request header fields are too large")
        case .unauthorized: PresenceError(.unauthorized, "a valid bearer token is required")
        case .serviceUnavailable: PresenceError(.unavailable, "the service is unavailable", retryAfter: 1)
        case let status where (400..<500).contains(status.code): PresenceError(.badRequest, "the request is malformed")
        default: PresenceError(.internal, "the server could not handle the request")
        }
    }
}
