import Foundation
import NIOConcurrencyHelpers

/// A NATS client speaking the text protocol itself, for what the service's client does not
/// offer: subscribing to wildcards and recording every message, as an eavesdropper would.
/// Reads on a thread of its own; ``close()`` ends it.
final class RawNATSClient: Sendable {
    /// One message received: its subject and reply subject.
    struct Message: Sendable, Equatable {
        var subject: String
        var reply: String?
    }

    private let descriptor: Int32
    private let received = NIOLockedValueBox<[Message]>([])
    private let errors = NIOLockedValueBox<[String]>([])

    /// Connects to 127.0.0.1:`port` without credentials and subscribes to `subjects`.
    init(port: Int, subscribing subjects: [String]) throws {
        guard let descriptor = TestLoopback.connect(port: port, timeoutSeconds: 2) else { throw CancellationError() }
        self.descriptor = descriptor
        var lines = [#"CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}"#]
        for (index, subject) in subjects.enumerated() { lines.append("SUB \(subject) \(index + 1)") }
        lines.append("PING")
        send(lines.joined(separator: "\r\n") + "\r\n")
        let thread = Thread { [self] in readLoop() }
        thread.name = "raw-nats-client"
        thread.start()
    }

    /// Every message received so far.
    var messages: [Message] { received.withLockedValue { $0 } }

    /// `-ERR` lines the server sent (permission violations, for example).
    var serverErrors: [String] { errors.withLockedValue { $0 } }

    /// Publishes an empty message on `subject` with reply subject `reply`.
    func publish(_ subject: String, reply: String? = nil) {
        send("PUB \(subject)\(reply.map { " " + $0 } ?? "") 0\r\n\r\n")
    }

    /// Closes the connection; the reading thread ends.
    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    private func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            sent += count
        }
    }

    private func readLoop() {
        defer { Glibc.close(descriptor) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count == 0 { return }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }  // the read timeout: nothing came
                return
            }
            buffer.append(contentsOf: chunk[0..<count])
            while takeProtocolLine(&buffer) != nil {}
        }
    }

    /// Handles the first complete protocol line (and a message's payload) of `buffer`;
    /// returns nil when more bytes are needed.
    private func takeProtocolLine(_ buffer: inout [UInt8]) -> Void? {
        guard let end = buffer.indices.dropLast().first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) else { return nil }
        let line = String(decoding: buffer[0..<end], as: UTF8.self)
        let fields = line.split(separator: " ").map(String.init)
        var consumed = end + 2
        switch fields.first {
        case "MSG", "HMSG":
            // MSG <subject> <sid> [reply] <size>; HMSG <subject> <sid> [reply] <header size> <total size>
            let sizes = fields.first == "MSG" ? 1 : 2
            guard let total = fields.last.flatMap(Int.init), fields.count >= 3 + sizes else { return nil }
            guard buffer.count >= consumed + total + 2 else { return nil }
            consumed += total + 2
            let reply = fields.count == 4 + sizes ? fields[3] : nil
            received.withLockedValue { $0.append(Message(subject: fields[1], reply: reply)) }
        case "PING":
            send("PONG\r\n")
        case "-ERR":
            errors.withLockedValue { $0.append(line) }
        default:
            break
        }
        buffer.removeFirst(consumed)
        return ()
    }
}
