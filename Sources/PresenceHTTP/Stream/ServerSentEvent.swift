import Hummingbird
import PresenceCore

/// The wire form of the stream's events.
enum ServerSentEvent {
    /// `id: <revision>`, `event: presence`, `data: <record JSON on one line>`: the public view
    /// and the revision public readers see.
    static func presence(_ stored: StoredPresence, at now: Timestamp) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: stored.responseBody.count + 64)
        writePresence(stored, at: now, into: &buffer)
        return buffer
    }

    /// Appends a `presence` event to `buffer`: the cached body, or a stale one's view
    /// computed once for both its revision and its body.
    static func writePresence(_ stored: StoredPresence, at now: Timestamp, into buffer: inout ByteBuffer) {
        guard stored.isStale(at: now) else {
            writePresence(revision: stored.publicRevision, body: stored.responseBody, into: &buffer)
            return
        }
        let view = stored.publicView(at: now)
        writePresence(revision: view.revision, body: PresenceJSON.encodeResponse(view), into: &buffer)
    }

    private static func writePresence(revision: UInt64, body: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeString("id: \(revision)\nevent: presence\ndata: ")
        buffer.writeBytes(body)
        buffer.writeString("\n\n")
    }

    /// The first line of every stream: how long a client waits before reconnecting (ms).
    static let retry = ByteBuffer(string: "retry: 2000\n\n")

    /// A comment line that keeps proxies from closing an idle stream.
    static let keepalive = ByteBuffer(string: ": keepalive\n\n")

    /// The last event of a stream whose client did not keep up.
    static let slowConsumer = errorEvent(
        code: "slow_consumer", message: "the client did not read events fast enough; reconnect")

    /// The last event of a stream that could not go on: `event: error` with the error body.
    static func error(_ error: PresenceError) -> ByteBuffer {
        errorEvent(code: error.code.rawValue, message: error.message)
    }

    private static func errorEvent(code: String, message: String) -> ByteBuffer {
        var out = Array("event: error\ndata: ".utf8)
        out.append(contentsOf: PresenceError.errorObject(code: code, message: message))
        out.append(contentsOf: "\n\n".utf8)
        return ByteBuffer(bytes: out)
    }
}
