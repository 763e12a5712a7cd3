#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOPosix

/// Reads nats-server's monitoring endpoints (`/leafz`) over loopback HTTP/1.0.
///
/// A tiny blocking client run on NIO's shared thread pool: one GET to a server this process
/// started, on 127.0.0.1, with a one-second timeout. An HTTP client library would be more
/// than this needs.
public enum MonitorClient {
    /// A leaf node connected to a center, as `/leafz` reports it.
    public struct Leafnode: Sendable, Equatable, Decodable {
        /// The leaf server's name (nats-server 2.10+ reports it; otherwise its address).
        public var name: String
        /// `ip:port` of the leaf connection.
        public var address: String

        enum CodingKeys: String, CodingKey { case name, ip, port }

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let ip = try container.decodeIfPresent(String.self, forKey: .ip) ?? ""
            let port = try container.decodeIfPresent(Int.self, forKey: .port) ?? 0
            address = "\(ip):\(port)"
            let reported = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
            name = reported.isEmpty ? address : reported
        }
    }

    private struct LeafzBody: Decodable {
        var leafs: [Leafnode]?
    }

    /// The leaves connected to the server whose monitoring port is `port`; nil when it does not answer.
    public static func leafnodes(monitorPort port: Int) async -> [Leafnode]? {
        guard let body = try? await NIOThreadPool.singleton.runIfActive({ get(port: port, path: "/leafz") }),
            let decoded = try? JSONDecoder().decode(LeafzBody.self, from: body)
        else { return nil }
        return decoded.leafs ?? []
    }

    /// `GET path` on 127.0.0.1:`port` (blocking, one-second timeout); the body of a 2xx
    /// answer, or nil.
    public static func get(port: Int, path: String) -> Data? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else { return nil }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while response.count < 4 << 20 {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        guard let separator = response.range(of: Data("\r\n\r\n".utf8)),
            response.starts(with: Data("HTTP/1.".utf8)), response.count > 12,
            response[response.startIndex + 9] == UInt8(ascii: "2")
        else { return nil }
        return response[separator.upperBound...]
    }
}
