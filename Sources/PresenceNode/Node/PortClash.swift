#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds, before anything starts, a configured port another process already listens on, so
/// that start-up stops with one line naming the key to change instead of a bind error from
/// deep inside nats-server or the HTTP server. Ports 0 (the OS chooses) are not checked.
enum PortClash {
    /// A port to check: the configuration key that sets it, its flag, and where it listens.
    struct Listener: Equatable {
        var key: String
        var flag: String?
        var host: String
        var port: Int

        /// Whether the two could not both listen on one port: the same host, or a wildcard.
        func overlaps(_ other: Listener) -> Bool {
            host == other.host || [host, other.host].contains { $0 == "0.0.0.0" || $0 == "::" || $0.isEmpty }
        }
    }

    /// What `configuration` will listen on.
    static func listeners(of configuration: NodeConfiguration) -> [Listener] {
        var listeners = [Listener(key: "service.http.port", flag: "--http-port", host: configuration.httpHost, port: configuration.httpPort)]
        if configuration.natsEmbedded {
            listeners.append(Listener(key: "nats.client_port", flag: "--nats-client-port", host: "127.0.0.1", port: configuration.natsClientPort))
            listeners.append(Listener(key: "nats.monitor_port", flag: nil, host: "127.0.0.1", port: configuration.natsMonitorPort))
            if configuration.role == .center {
                listeners.append(
                    Listener(key: "nats.leafnode_port", flag: "--leafnode-port", host: configuration.natsLeafnodeHost, port: configuration.natsLeafnodePort))
            }
            if configuration.isClusteredCenter {
                listeners.append(Listener(key: "nats.cluster.port", flag: "--cluster-port", host: configuration.clusterHost, port: configuration.clusterPort))
            }
        }
        return listeners.filter { $0.port != 0 }
    }

    /// Which listeners a check looks at.
    enum Kind {
        /// The HTTP port.
        case http
        /// The embedded nats-server's ports.
        case nats
    }

    /// - Throws: ``ConfigurationError`` naming the key of a port configured twice, or of the
    ///   first port of `kind` in use.
    static func check(_ configuration: NodeConfiguration, only kind: Kind) throws(ConfigurationError) {
        let listeners = listeners(of: configuration)
        for (index, listener) in listeners.enumerated() {
            if let other = listeners[..<index].first(where: { $0.port == listener.port && $0.overlaps(listener) }) {
                throw ConfigurationError(
                    "\(listener.key) and \(other.key) are both \(listener.port): give each its own port")
            }
        }
        for listener in listeners where (listener.key == "service.http.port") == (kind == .http) {
            if isInUse(host: listener.host, port: listener.port) {
                let flag = listener.flag.map { " (or \($0))" } ?? ""
                throw ConfigurationError(
                    "\(listener.key): port \(listener.port) on \(listener.host) is already in use by another process; stop it or change \(listener.key)\(flag)")
            }
        }
    }

    /// Whether binding `host:port` (IPv4; with SO_REUSEADDR, as the servers do) fails
    /// because something listens there. A host that is not an IPv4 address is not checked.
    static func isInUse(host: String, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        let literal = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, literal, &address.sin_addr) == 1 else { return false }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result != 0 && errno == EADDRINUSE
    }
}
