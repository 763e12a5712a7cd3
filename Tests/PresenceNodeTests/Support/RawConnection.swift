import Foundation

/// One HTTP/1.x connection on a raw blocking socket with read and write time-outs: the test
/// decides what goes on the wire and sees exactly what comes back (keep-alive, `Connection:
/// close`, the server closing, a reset). Used from one thread at a time.
final class RawConnection {
    /// A response as read off the wire.
    struct Response {
        let status: Int
        /// Header names lower-cased.
        let headers: [(name: String, value: String)]
        let body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name == name.lowercased() }?.value
        }

        var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// `error.code` of a JSON error body.
        var errorCode: String? {
            let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            return (json?["error"] as? [String: Any])?["code"] as? String
        }
    }

    /// How a wait for the server to close ended.
    enum CloseOutcome: Equatable {
        /// The server closed (EOF or reset) without sending anything more.
        case closed
        /// More bytes came instead.
        case data
        /// Nothing happened within the time-out.
        case timedOut
    }

    let descriptor: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; nil when the connection is refused or times out.
    init?(port: Int, timeoutSeconds: Int = 10) {
        guard let fd = TestLoopback.connect(port: port, timeoutSeconds: timeoutSeconds) else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Writes all of `text`; false when the connection failed first.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Writes all of `bytes`; false when the connection failed first.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Self.sendNoSignal(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Reads one complete response (framed by `Content-Length`, chunked, or the server closing
    /// when it sends neither); nil when the connection ends, fails or times out first.
    func readResponse() -> Response? {
        guard let headEnd = readUntilHeadEnd() else { return nil }
        let headText = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (
                line[..<colon].lowercased(),
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
        let response = { (body: [UInt8]) in Response(status: status, headers: headers, body: body) }
        if status == 304 || status == 204 { return response([]) }
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }) {
            guard fill(to: length) else { return nil }
            let body = Array(buffer[0..<length])
            buffer.removeFirst(length)
            return response(body)
        }
        if headers.contains(where: { $0.name == "transfer-encoding" && $0.value.lowercased() == "chunked" }) {
            return readChunkedBody().map(response)
        }
        while readMore() {}
        let body = buffer
        buffer = []
        return response(body)
    }

    /// Waits until the server closes the connection, sends something, or `timeoutSeconds` pass.
    func waitForClose(timeoutSeconds: Double) -> CloseOutcome {
        if !buffer.isEmpty { return .data }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeoutSeconds * 1000))
        guard ready > 0 else { return .timedOut }
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, 0)
        if count > 0 {
            buffer.append(byte)
            return .data
        }
        return .closed
    }

    /// `send` without SIGPIPE when the peer is gone.
    static func sendNoSignal(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if os(Linux)
        Foundation.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
        #else
        Foundation.send(fd, pointer, count, 0)
        #endif
    }

    private func readMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    private func fill(to count: Int) -> Bool {
        while buffer.count < count {
            guard readMore() else { return false }
        }
        return true
    }

    private func readUntilHeadEnd() -> Int? {
        let marker: [UInt8] = [13, 10, 13, 10]
        var searchFrom = 0
        while true {
            if buffer.count >= 4 {
                for index in searchFrom...(buffer.count - 4) where buffer[index..<index + 4].elementsEqual(marker) {
                    return index
                }
                searchFrom = buffer.count - 3
            }
            guard readMore() else { return nil }
        }
    }

    private func readLine() -> String? {
        while true {
            if let end = buffer.firstIndex(of: 10), end > 0, buffer[end - 1] == 13 {
                let line = String(decoding: buffer[0..<(end - 1)], as: UTF8.self)
                buffer.removeFirst(end + 1)
                return line
            }
            guard readMore() else { return nil }
        }
    }

    private func readChunkedBody() -> [UInt8]? {
        var body: [UInt8] = []
        while true {
            guard let sizeLine = readLine(),
                let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16)
            else { return nil }
            guard fill(to: size + 2) else { return nil }
            body.append(contentsOf: buffer[0..<size])
            buffer.removeFirst(size + 2)
            if size == 0 { return body }
        }
    }
}
