import EmbeddedNATS

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection to 127.0.0.1 with blocking reads and writes.
final class LoopbackSocket {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; a read (and a write) waits at most `receiveTimeout`
    /// seconds (0: for ever).
    init(port: Int, receiveTimeout: Int = 0) throws {
        do {
            descriptor = try Loopback.connect(port: port, timeoutSeconds: receiveTimeout > 0 ? receiveTimeout : nil)
        } catch {
            throw BenchError("cannot connect to 127.0.0.1:\(port): \(error)")
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw BenchError("write failed") }
            offset += written
        }
    }

    /// Reads one HTTP/1.1 response with a Content-Length; returns status and body.
    func readResponse() throws -> (status: Int, body: [UInt8]) {
        while true {
            if let end = headerEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
                while buffer.count < end + 4 + length { try fill() }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return (status, body)
            }
            try fill()
        }
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = read(descriptor, &chunk, chunk.count)
        guard count > 0 else { throw BenchError("connection closed") }
        buffer.append(contentsOf: chunk[0..<count])
    }

    deinit { close(descriptor) }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension Set where Element == Character {
    static var whitespaces: Set<Character> { [" ", "\t"] }
}
