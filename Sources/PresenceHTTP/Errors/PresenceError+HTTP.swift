import Hummingbird
import PresenceCore

extension PresenceError.Code {
    /// The HTTP status every error code is sent with (SPEC §3).
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest, .invalidUserID, .invalidSessionID, .invalidStatus, .invalidMessage, .invalidTTL, .tooManyUsers:
            .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .preconditionFailed: .preconditionFailed
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited: .tooManyRequests
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .unavailable: .serviceUnavailable
        case .outcomeUnknown: .gatewayTimeout
        case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
        default: .internalServerError
        }
    }
}

extension PresenceError {
    /// The error as an HTTP response: `{"error": {"code": …, "message": …}}` with the
    /// status of its code, `Retry-After` when known, and `WWW-Authenticate` on 401.
    public var response: Response {
        var headers = HTTPFields.json
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if code == .unauthorized { headers[.wwwAuthenticate] = challenge }
        return Response(status: code.httpStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    /// The `WWW-Authenticate` value of a 401 (RFC 6750 §3): `Bearer realm="presence"`, with
    /// `error="invalid_token"` (or `invalid_request`) when credentials came and were refused.
    /// No `error_description`: the body's message says it, and may hold a quote that RFC 6750
    /// does not allow there.
    var challenge: String {
        guard let tokenError else { return #"Bearer realm="presence""# }
        return #"Bearer realm="presence", error="\#(tokenError)""#
    }

    /// The error body, `{"error":{"code":…,"message":…}}` and a newline.
    var jsonBody: [UInt8] { Self.errorObject(code: code.rawValue, message: message) + [UInt8(ascii: "\n")] }

    /// `{"error":{"code":…,"message":…}}`: the one writer of the error object, for HTTP
    /// responses and the stream's last event alike.
    static func errorObject(code: String, message: String) -> [UInt8] {
        var out = Array(#"{"error":{"code":"#.utf8)
        JSONString.append(code, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONString.append(message, to: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }
}

extension HTTPFields {
    /// `Content-Type: application/json; charset=utf-8`.
    static var json: HTTPFields { [.contentType: "application/json; charset=utf-8"] }
}

extension Response {
    /// A JSON response from already encoded bytes; the body ends with a newline.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = HTTPFields.json
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(jsonLine: bytes)))
    }
}

extension ByteBuffer {
    /// A JSON body: `json` and a newline, in one allocation and one copy.
    init(jsonLine json: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: json.count + 1)
        writeBytes(json)
        writeInteger(UInt8(ascii: "\n"))
    }
}
