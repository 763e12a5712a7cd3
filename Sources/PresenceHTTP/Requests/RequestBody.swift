import Hummingbird
import NIOCore
import PresenceCore

/// Reading JSON request bodies within a size limit.
enum RequestBody {
    /// The body's bytes: 413 past `limit`, 415 when `Content-Type` is present and not JSON.
    /// A body without `Content-Type` is read as JSON.
    static func json(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let type = request.headers[.contentType], !isJSON(type) {
            throw PresenceError(.unsupportedMediaType, "the request body must be application/json")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw PresenceError(.payloadTooLarge, "the request body must be at most \(limit) bytes")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw PresenceError(.payloadTooLarge, "the request body must be at most \(limit) bytes")
        } catch is NIOTooManyBytesError {
            // A chunked body without Content-Length that grows past the limit.
            throw PresenceError(.payloadTooLarge, "the request body must be at most \(limit) bytes")
        }
        return Array(buffer.readableBytesView)
    }

    /// `application/json` or any `+json` type, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        if contentType == "application/json" { return true }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { HeaderValue.trimmed($0).lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}
