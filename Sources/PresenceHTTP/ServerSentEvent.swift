import Hummingbird
import PresenceCore

/// The wire form of the stream's events.
enum ServerSentEvent {
    /// `id: <revision>`, `event: presence`, `data: <record JSON on one line>`.
    static func presence(_ stored: StoredPresence, at now: Timestamp) -> ByteBuffer {
        var out = Array("id: \(stored.revision)\nevent: presence\ndata: ".utf8)
        out.append(contentsOf: stored.body(at: now))
        out.append(contentsOf: "\n\n".utf8)
        return ByteBuffer(bytes: out)
    }

    /// A comment line that keeps proxies from closing an idle stream.
    static let keepalive = ByteBuffer(string: ": keepalive\n\n")

    /// The last event of a stream whose client did not keep up.
    static let slowConsumer = ByteBuffer(
        string:
            "event: error\ndata: {\"error\":{\"code\":\"slow_consumer\",\"message\":\"the client did not read events fast enough; reconnect\"}}\n\n"
    )

    /// The last event of a stream that could not go on: `event: error` with the error body.
    static func error(_ error: PresenceError) -> ByteBuffer {
        var out = Array("event: error\ndata: {\"error\":{\"code\":".utf8)
        PresenceJSON.appendString(error.code.rawValue, to: &out)
        out.append(contentsOf: ",\"message\":".utf8)
        PresenceJSON.appendString(error.message, to: &out)
        out.append(contentsOf: "}}\n\n".utf8)
        return ByteBuffer(bytes: out)
    }
}
