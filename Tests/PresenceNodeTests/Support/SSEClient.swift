import Foundation
import NIOConcurrencyHelpers

/// A Server-Sent Events client on a raw socket, reading on a thread of its own, so a test
/// can watch a stream arrive event by event.
final class SSEClient: Sendable {
    struct Event: Equatable {
        var id: String?
        var event: String?
        var data: String
    }

    private struct State {
        var text = ""
        var closed = false
    }

    private let descriptor: Int32
    private let state = NIOLockedValueBox(State())

    /// Opens `GET path` on 127.0.0.1:`port` (with `headers`) and starts reading.
    init(port: Int, path: String, headers: [String: String] = [:]) throws {
        guard let fd = TestLoopback.connect(port: port) else { throw CancellationError() }
        descriptor = fd
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\(extra)\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            let chunk = String(decoding: buffer[0..<count], as: UTF8.self)
            state.withLockedValue { $0.text += chunk }
        }
        state.withLockedValue { $0.closed = true }
    }

    /// Everything received so far (headers, chunk framing and events).
    var received: String { state.withLockedValue { $0.text } }

    /// Whether the server closed the connection.
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The HTTP status line.
    var statusLine: String { received.components(separatedBy: "\r\n").first ?? "" }

    /// The events received so far, parsed from `id:`/`event:`/`data:` lines.
    var events: [Event] {
        var events: [Event] = []
        var current = Event(data: "")
        var hasField = false
        // "\r\n" is one Character in Swift: normalise line ends before splitting.
        let text = received.replacingOccurrences(of: "\r\n", with: "\n")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("id: ") {
                current.id = String(line.dropFirst(4)); hasField = true
            } else if line.hasPrefix("event: ") {
                current.event = String(line.dropFirst(7)); hasField = true
            } else if line.hasPrefix("data: ") {
                current.data = String(line.dropFirst(6)); hasField = true
            } else if line.isEmpty, hasField, current.event != nil || !current.data.isEmpty {
                events.append(current)
                current = Event(data: "")
                hasField = false
            }
        }
        return events
    }

    /// The `data` of `presence` events parsed as JSON objects.
    var presences: [[String: Any]] {
        events.filter { $0.event == "presence" }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]
        }
    }

    /// Waits up to `timeout` for `condition` to hold.
    func wait(timeout: Duration = .seconds(10), until condition: (SSEClient) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }

    /// Closes the connection from the client side.
    func disconnect() { shutdown(descriptor, Int32(SHUT_RDWR)) }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}
