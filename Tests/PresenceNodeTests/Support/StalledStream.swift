import EmbeddedNATS
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client that opens a stream and then never reads: a raw TCP socket with a small receive
/// buffer, so the server's writes back up into its own buffers as fast as possible.
struct StalledStream {
    let descriptor: Int32

    /// Connects to 127.0.0.1:`port` and sends `GET path`; nil when the connection fails.
    static func open(port: Int, path: String, receiveBuffer: Int32 = 4096) -> StalledStream? {
        // A small receive buffer from the first segment on.
        guard let fd = try? Loopback.connect(port: port, receiveBufferBytes: receiveBuffer) else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            close(fd)
            return nil
        }
        return StalledStream(descriptor: fd)
    }

    /// Closes the socket without reading what is waiting in it (the kernel answers with a reset).
    func disconnect() { close(descriptor) }
}

/// Reads a process's memory and a node's metrics, for the flood tests.
enum ProcessMemory {
    /// Resident set size of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
    static func resident(_ pid: pid_t) throws -> Int { try statusBytes("VmRSS", of: pid) }

    /// Peak resident set size of `pid` in bytes (`VmHWM` of `/proc/<pid>/status`).
    static func peakResident(_ pid: pid_t) throws -> Int { try statusBytes("VmHWM", of: pid) }

    /// A `kB` field of `/proc/<pid>/status`, in bytes.
    private static func statusBytes(_ field: String, of pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw CancellationError() }
        return kib * 1024
    }
}

extension HTTP {
    /// `GET path` as text (for `/metrics`).
    static func text(port: Int, path: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10 * TestTime.scale
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The value of an unlabelled Prometheus sample, nil when absent.
    static func metric(_ name: String, port: Int) async throws -> Double? {
        let (_, text) = try await self.text(port: port, path: "/metrics")
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}
