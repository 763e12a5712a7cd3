import ArgumentParser
import NIOCore

/// The options `rate` and `steps` share: the node, the users, the token, the client.
struct RateOptions: ParsableArguments {
    @Option(help: "HTTP port of the node.") var port: Int
    @Option(help: "IPv4 address of the node.") var host: String = "127.0.0.1"
    @Option(help: "An admin token (Authorization: Bearer).") var token: String
    @Option(help: "Users the heartbeats cycle over: <prefix>0 … <prefix>(users-1).") var users: Int = 100_000
    @Option(help: "User id prefix.") var prefix: String = "user"
    @Option(help: "Heartbeat this session (…/sessions/<name>/heartbeat) instead of the user's default.")
    var session: String?
    @Option(help: "Seconds an answer may take before the request counts as an error.") var timeout: Double = 5
    @Option(help: "A send later than this many milliseconds after its scheduled time counts as late.")
    var lateMs: Double = 1
    @Option(help: "Source addresses 127.0.0.1 … 127.0.0.N the connections are spread over.") var sources: Int = 4
    @Option(help: "The most connections per thread.") var maxConnections: Int = 4096
    @Option(help: "Connections per thread being opened at once, at most.") var maxConnecting: Int = 16
    @Option(help: "Connections per thread opened before the first request is due.") var warmConnections: Int = 32
    @Option(help: "Event loops (threads) sending, each a share of the rate on connections of its own.")
    var threads: Int = 1
    @Option(help: "Local ports of the client sockets (low-high; Linux 6.3+), or 'system'.")
    var localPorts: String = "40001-60999"
    @Option(help: "A run holds its rate when p99 is at most this (ms) and every request got a 2xx.")
    var p99LimitMs: Double = 10

    func validate() throws {
        guard users > 0 else { throw ValidationError("--users must be at least 1") }
        guard threads > 0, maxConnections > 0, maxConnecting > 0, sources > 0 else {
            throw ValidationError("--threads, --max-connections, --max-connecting and --sources must be at least 1")
        }
        guard localPorts == "system" || portRange != nil else {
            throw ValidationError("--local-ports takes low-high (e.g. 40001-60999) or 'system'")
        }
    }

    private var portRange: ClosedRange<Int>? {
        let bounds = localPorts.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] > 0, bounds[0] <= bounds[1], bounds[1] <= 65_535 else { return nil }
        return bounds[0]...bounds[1]
    }

    /// The load these options describe; `startOnlineTTL` as in ``RateRequestShape``, and with
    /// `changesTTL` every request a change (``RateRequestShape/init(changesOf:token:ttl:)``).
    func load(startOnlineTTL: Int? = nil, changesTTL: Int? = nil) -> RateLoad {
        let settings = RateClientSettings(
            host: host, port: port, sources: sources, maxConnections: maxConnections, maxConnecting: maxConnecting,
            warmConnections: warmConnections,
            timeout: .nanoseconds(Int64(timeout * 1e9)), lateBound: .nanoseconds(Int64(lateMs * 1e6)),
            localPorts: portRange)
        let shape =
            changesTTL.map { RateRequestShape(changesOf: prefix, token: token, ttl: $0) }
            ?? RateRequestShape(prefix: prefix, session: session, token: token, startOnlineTTL: startOnlineTTL)
        return RateLoad(shape: shape, settings: settings, threads: threads, p99LimitMs: p99LimitMs)
    }
}
