import Foundation

/// The ports a running nats-server listens on, as it reports them, so the supervisor can ask
/// for OS-assigned ports (0 in ``EmbeddedNATSConfiguration``, `-1` in the config file) instead
/// of guessing free ones, and still tell clients and operators the real ones.
///
/// Client and monitoring ports come from the file that `ports_file_dir` makes nats-server
/// write (`<binary>_<pid>.ports`, removed on a clean exit); the leafnode port from `/varz`,
/// because nats-server 2.9 leaves it out of that file.
public struct NATSServerPorts: Sendable, Equatable {
    /// Where clients connect (loopback).
    public var client: Int
    /// The monitoring endpoint (loopback).
    public var monitor: Int
    /// Where leaves connect (center only).
    public var leafnode: Int?

    /// A port as the config file spells it: 0 (OS-assigned) is `-1`.
    static func configValue(_ port: Int) -> String { port == 0 ? "-1" : String(port) }

    /// The ports of the server with pid `pid` in `directory`, once it has written them (and,
    /// when `expectsLeafnodes`, its monitoring answers with the leafnode port); nil before.
    /// Blocking (a file and a loopback request with a one-second timeout): run it on a thread pool.
    static func read(directory: String, pid: Int32, expectsLeafnodes: Bool) -> NATSServerPorts? {
        guard let name = try? FileManager.default.contentsOfDirectory(atPath: directory).first(where: { $0.hasSuffix("_\(pid).ports") }),
            let data = FileManager.default.contents(atPath: directory + "/" + name),
            let file = try? JSONDecoder().decode(PortsFile.self, from: data),
            let client = file.nats?.lazy.compactMap(port(of:)).first,
            let monitor = file.monitoring?.lazy.compactMap(port(of:)).first
        else { return nil }
        var ports = NATSServerPorts(client: client, monitor: monitor, leafnode: nil)
        if expectsLeafnodes {
            guard let body = try? MonitorClient.getBlocking(port: monitor, path: "/varz"),
                let varz = try? JSONDecoder().decode(Varz.self, from: body), let leafnode = varz.leaf?.port, leafnode > 0
            else { return nil }
            ports.leafnode = leafnode
        }
        return ports
    }

    /// Deletes ports files of servers that died without removing theirs (SIGKILL).
    static func removeStale(directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasSuffix(".ports") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    private static func port(of url: String) -> Int? {
        url.split(separator: ":").last.flatMap { Int($0) }
    }

    private struct PortsFile: Decodable {
        var nats: [String]?
        var monitoring: [String]?
    }

    private struct Varz: Decodable {
        struct Leaf: Decodable { var port: Int? }
        var leaf: Leaf?
    }
}

extension EmbeddedNATSConfiguration {
    /// This configuration listening on `ports`, so that a restarted server takes the same ports
    /// the first one was given.
    func pinned(to ports: NATSServerPorts) -> EmbeddedNATSConfiguration {
        var pinned = self
        pinned.clientPort = ports.client
        pinned.monitorPort = ports.monitor
        if case .center = mode, let leafnode = ports.leafnode { pinned.mode = .center(leafnodePort: leafnode) }
        return pinned
    }
}
