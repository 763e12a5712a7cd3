import NIOCore
import PresenceCore

/// The text frames the server sends a connected client (SPEC §3b), written straight into a
/// buffer: `presence` bodies are the record's encoded JSON, never encoded again.
enum SocketMessage {
    /// `{"id": …, "type": "welcome", "session": "…", "presence": {…}}`.
    static func welcome(id: [UInt8]?, session: SessionID, presence: [UInt8], allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        var buffer = start(id: id, type: "welcome", capacity: presence.count + 96, allocator: allocator)
        buffer.writeStaticString(#","session":"#)
        buffer.writeString(JSONString.quoted(session.rawValue))
        buffer.writeStaticString(#","presence":"#)
        buffer.writeBytes(presence)
        buffer.writeStaticString("}")
        return buffer
    }

    /// `{"id": …, "type": "ok"}`, with the presence after a `set`.
    static func ok(id: [UInt8]?, presence: [UInt8]? = nil, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = start(id: id, type: "ok", capacity: (presence?.count ?? 0) + 48, allocator: allocator)
        if let presence {
            buffer.writeStaticString(#","presence":"#)
            buffer.writeBytes(presence)
        }
        buffer.writeStaticString("}")
        return buffer
    }

    /// `{"id": …, "type": "error", "error": {"code": "…", "message": "…"}}` (and
    /// `retry_after` for a rate limit or a store that is unavailable).
    static func error(id: [UInt8]?, _ error: PresenceError, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = start(id: id, type: "error", capacity: error.message.utf8.count + 96, allocator: allocator)
        buffer.writeStaticString(#","error":{"code":"#)
        buffer.writeString(JSONString.quoted(error.code.rawValue))
        buffer.writeStaticString(#","message":"#)
        buffer.writeString(JSONString.quoted(error.message))
        if let retryAfter = error.retryAfter {
            buffer.writeStaticString(#","retry_after":"#)
            buffer.writeString(String(retryAfter))
        }
        buffer.writeStaticString("}}")
        return buffer
    }

    /// `{"type": "presence", "presence": {…}}`: one subscribed user's public presence.
    static func presence(_ body: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: body.count + 32)
        buffer.writeStaticString(#"{"type":"presence","presence":"#)
        buffer.writeBytes(body)
        buffer.writeStaticString("}")
        return buffer
    }

    private static func start(id: [UInt8]?, type: StaticString, capacity: Int, allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: capacity + (id?.count ?? 0))
        buffer.writeStaticString("{")
        if let id {
            buffer.writeStaticString(#""id":"#)
            buffer.writeBytes(id)
            buffer.writeStaticString(",")
        }
        buffer.writeStaticString(#""type":""#)
        buffer.writeStaticString(type)
        buffer.writeStaticString(#"""#)
        return buffer
    }
}
