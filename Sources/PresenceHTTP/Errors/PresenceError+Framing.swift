import NIOHTTP1
import PresenceCore

extension PresenceError {
    /// The answer to a request that is not valid HTTP/1.1 (an error of NIO's HTTP decoder):
    /// 431 `headers_too_large` for a head over the limit, 400 `bad_request` otherwise.
    /// - Parameter maxHeadBytes: the limit of the request head, named in the message.
    init(framing error: any Error, maxHeadBytes: Int? = nil) {
        switch error as? HTTPParserError {
        case .headerOverflow:
            let limit = maxHeadBytes.map { " (at most \($0) bytes)" } ?? ""
            self.init(.headersTooLarge, "the request line and header fields are too large\(limit)")
        case .invalidChunkSize:
            self.init(.badRequest, "the chunked request body has an invalid chunk size")
        case .invalidContentLength, .unexpectedContentLength:
            self.init(.badRequest, "the request's Content-Length is invalid")
        case .invalidVersion:
            self.init(.badRequest, "the request's HTTP version is not supported (HTTP/1.0 or HTTP/1.1)")
        case .invalidMethod:
            self.init(.badRequest, "the request method is not valid")
        case .invalidURL:
            self.init(.badRequest, "the request target is not valid")
        case .invalidHeaderToken, .invalidCharactersUsed, .lfExpected, .invalidConstant:
            self.init(.badRequest, "the request head is malformed")
        case .invalidEOFState:
            self.init(.badRequest, "the connection ended in the middle of the request")
        default:
            self.init(.badRequest, "the request is not valid HTTP/1.1")
        }
    }
}
