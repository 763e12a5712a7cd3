/// An error the presence service reports to its clients.
///
/// Every failure that reaches an API client is one of these: a stable machine-readable
/// ``Code`` (the spec's error codes) and a human sentence. The code set can grow without
/// breaking callers because ``Code`` is an opaque struct with static members.
public struct PresenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable error code, as sent in the `error.code` field of an error body.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's wire form, e.g. `invalid_user_id`.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        public static let badRequest = Code("bad_request")
        public static let invalidUserID = Code("invalid_user_id")
        public static let invalidSessionID = Code("invalid_session_id")
        public static let invalidStatus = Code("invalid_status")
        public static let invalidMessage = Code("invalid_message")
        public static let invalidTTL = Code("invalid_ttl")
        public static let tooManyUsers = Code("too_many_users")
        public static let unauthorized = Code("unauthorized")
        public static let forbidden = Code("forbidden")
        public static let notFound = Code("not_found")
        public static let methodNotAllowed = Code("method_not_allowed")
        public static let preconditionFailed = Code("precondition_failed")
        public static let payloadTooLarge = Code("payload_too_large")
        public static let unsupportedMediaType = Code("unsupported_media_type")
        public static let rateLimited = Code("rate_limited")
        public static let headersTooLarge = Code("headers_too_large")
        public static let unavailable = Code("unavailable")
        /// A write was sent but its acknowledgement did not come in time: it may be stored.
        public static let outcomeUnknown = Code("outcome_unknown")
        /// The store is out of space or over its limit.
        public static let insufficientStorage = Code("insufficient_storage")
        public static let `internal` = Code("internal")

        public var description: String { rawValue }
    }

    /// The machine-readable code.
    public let code: Code
    /// A sentence for humans; never contains internal detail.
    public let message: String
    /// Seconds after which a retry makes sense (rate limits, unavailability).
    public let retryAfter: Int?
    /// For `unauthorized`: the RFC 6750 §3.1 error code of the `WWW-Authenticate` challenge,
    /// `invalid_token` when a token came and did not verify, `invalid_request` when the
    /// `Authorization` header is not a bearer token; nil when the request sent no credentials.
    public let tokenError: String?

    /// Creates an error with a code, a message, an optional retry hint and, for
    /// `unauthorized`, the RFC 6750 error code of its challenge.
    public init(_ code: Code, _ message: String, retryAfter: Int? = nil, tokenError: String? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.tokenError = tokenError
    }

    public var description: String { "\(code): \(message)" }
}
