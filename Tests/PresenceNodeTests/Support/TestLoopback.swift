import Foundation

import EmbeddedNATS

/// The tests' own TCP on 127.0.0.1 beyond client sockets (those are `Loopback.connect`, the
/// one way the service, the benchmarks and the tests open one): whether a port is free, and
/// a listener holding a port.
enum TestLoopback {
    /// A TCP socket connected to 127.0.0.1:`port` (the caller closes it), or nil.
    /// - Parameter timeoutSeconds: when set, reads and writes on the socket time out after it.
    static func connect(port: Int, timeoutSeconds: Int? = nil) -> Int32? {
        try? Loopback.connect(port: port, timeoutSeconds: timeoutSeconds)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func acceptsConnections(port: Int) -> Bool {
        Loopback.acceptsConnections(port: port)
    }

    /// Whether a listener could bind `host`:`port` right now.
    static func isBindable(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = socketAddress(host: host, port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    fileprivate static func socketAddress(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }
}

/// A TCP socket listening on a free loopback port (the OS assigns it), closed on deinit:
/// a port another process holds.
final class ListeningSocket {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = TestLoopback.socketAddress(host: "127.0.0.1", port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw CancellationError()
        }
        self.descriptor = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
