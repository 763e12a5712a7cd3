#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOPosix

/// Reads nats-server's monitoring endpoints (`/leafz`) over loopback HTTP/1.0.
///
/// A tiny client whose blocking work runs on NIO's shared thread pool: one GET to a server
/// this process started, on 127.0.0.1, with a one-second timeout. An HTTP client library
/// would be more than this needs.
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
        guard let body = await get(port: port, path: "/leafz"),
            let decoded = try? JSONDecoder().decode(LeafzBody.self, from: body)
        else { return nil }
        return decoded.leafs ?? []
    }

    private struct RoutezBody: Decodable {
        struct Route: Decodable {
            var remoteName: String?
            var ip: String?
            var port: Int?
            enum CodingKeys: String, CodingKey {
                case remoteName = "remote_name"
                case ip, port
            }
        }
        var routes: [Route]?
    }

    /// The names of the servers this one has a route to (each once: nats-server 2.10+ keeps
    /// a pool of routes per peer); nil when it does not answer.
    public static func routedServers(monitorPort port: Int) async -> [String]? {
        guard let body = await get(port: port, path: "/routez"),
            let decoded = try? JSONDecoder().decode(RoutezBody.self, from: body)
        else { return nil }
        let names = (decoded.routes ?? []).map { route in
            route.remoteName.flatMap { $0.isEmpty ? nil : $0 } ?? "\(route.ip ?? ""):\(route.port ?? 0)"
        }
        return Array(Set(names)).sorted()
    }

    /// `GET path` on 127.0.0.1:`port` with a one-second timeout, on NIO's thread pool; the
    /// body of a 2xx answer, or nil.
    public static func get(port: Int, path: String) async -> Data? {
        try? await NIOThreadPool.singleton.runIfActive { try? getBlocking(port: port, path: path) }
    }

    /// `GET path` on 127.0.0.1:`port`, blocking its thread (one-second timeout); the body of
    /// a 2xx answer, or nil when the answer is not 2xx.
    static func getBlocking(port: Int, path: String) throws(SystemCallError) -> Data? {
        let fd = try Loopback.connect(port: port, timeoutSeconds: 1)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let offset = sent
            let count = try syscall("write") { request[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
            sent += count
        }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while response.count < 4 << 20 {
            let count = try syscall("read") { read(fd, &buffer, buffer.count) }
            if count == 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        guard let separator = response.range(of: Data("\r\n\r\n".utf8)),
            response.starts(with: Data("HTTP/1.".utf8)), response.count > 12,
            response[response.startIndex + 9] == UInt8(ascii: "2")
        else { return nil }
        return response[separator.upperBound...]
    }
}
