#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain TCP to the loopback interface: the little socket work the supervisor and the
/// monitor client need, and the one way the benchmarks and the tests open a client socket
/// (hence `package`). Blocking: call it on a thread pool, never on the cooperative pool.
package enum Loopback {
    /// A TCP socket connected to 127.0.0.1:`port`, with `TCP_NODELAY`; the caller closes it.
    /// - Parameters:
    ///   - timeoutSeconds: when set, reads and writes on the socket time out after it.
    ///   - receiveBufferBytes: when set, the socket's receive buffer, set before it connects
    ///     so that the window it advertises is that small from the first segment.
    ///   - blocking: false: a non-blocking socket, returned while its connect may still be
    ///     under way (`EINPROGRESS`).
    package static func connect(
        port: Int, timeoutSeconds: Int? = nil, receiveBufferBytes: Int32? = nil, blocking: Bool = true
    ) throws(SystemCallError) -> Int32 {
        let fd = try syscall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        do throws(SystemCallError) {
            if let timeoutSeconds {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                let size = socklen_t(MemoryLayout<timeval>.size)
                try syscall("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, size) }
                try syscall("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, size) }
            }
            if var size = receiveBufferBytes {
                try syscall("setsockopt") {
                    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            if !blocking {
                try syscall("fcntl") { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            do throws(SystemCallError) {
                try syscall("connect", retryingInterrupts: false) {
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            posixConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            } catch {
                guard !blocking, error.code == EINPROGRESS else { throw error }
            }
            var one: Int32 = 1
            try syscall("setsockopt") {
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    package static func acceptsConnections(port: Int) -> Bool {
        guard let fd = try? connect(port: port) else { return false }
        close(fd)
        return true
    }
}

/// The system's `connect`, which `Loopback.connect(port:timeoutSeconds:)` would otherwise shadow.
private func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}
