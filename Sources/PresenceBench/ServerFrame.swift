import NIOCore

/// One WebSocket frame from the server (RFC 6455 §5.2: never masked), read straight off the
/// connection's bytes: the bench client has no frame decoder of NIO's in its pipeline.
struct ServerFrame {
    /// The opcodes the bench client tells apart.
    enum Opcode: UInt8 {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    }

    var fin: Bool
    /// The raw opcode (an unknown one is the caller's to refuse).
    var opcode: UInt8
    var payload: ByteBuffer

    /// A frame too large or masked: the connection is not a presence socket's.
    struct Malformed: Error {}

    /// The largest frame the server sends a subscriber (a presence event is a few hundred bytes).
    static let maxPayload = 1 << 20

    /// Reads one whole frame off `buffer`; nil (and `buffer` untouched) while it is not all there.
    static func read(from buffer: inout ByteBuffer) throws(Malformed) -> ServerFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        guard second & 0x80 == 0 else { throw Malformed() }
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            header += 2
            length = Int(extended)
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            guard extended <= UInt64(maxPayload) else { throw Malformed() }
            header += 8
            length = Int(extended)
        }
        guard length <= maxPayload else { throw Malformed() }
        guard buffer.readableBytes >= header + length else { return nil }
        buffer.moveReaderIndex(forwardBy: header)
        guard let payload = buffer.readSlice(length: length) else { return nil }
        return ServerFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
    }
}
