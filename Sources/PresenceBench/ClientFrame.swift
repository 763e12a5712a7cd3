import NIOCore

/// Writes the frames a client sends (RFC 6455 §5.2-5.3: always masked), with the mask key
/// the caller gives (the bench draws it from a cheap generator, not from the system's).
enum ClientFrame {
    /// A final frame of `opcode` carrying `payload`, masked with `mask`.
    static func write(
        opcode: ServerFrame.Opcode, payload: some Collection<UInt8>, mask: UInt32, into buffer: inout ByteBuffer
    ) {
        let count = payload.count
        buffer.writeInteger(0x80 | opcode.rawValue)
        if count < 126 {
            buffer.writeInteger(UInt8(0x80 | count))
        } else if count <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(count))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(count))
        }
        buffer.writeInteger(mask)
        var shift: UInt32 = 24  // the key's bytes in network order, as written above
        for byte in payload {
            buffer.writeInteger(byte ^ UInt8(truncatingIfNeeded: mask >> shift))
            shift = shift == 0 ? 24 : shift - 8
        }
    }

    /// A whole frame in a new buffer.
    static func make(
        _ opcode: ServerFrame.Opcode, _ payload: some Collection<UInt8>, mask: UInt32, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + 14)
        write(opcode: opcode, payload: payload, mask: mask, into: &buffer)
        return buffer
    }
}
