import NIOCore

/// How an open-loop run reaches the node: where, over how many connections at most, how long
/// an answer may take, and what counts as a late send.
struct RateClientSettings: Sendable {
    /// The node's HTTP address (an IPv4 address).
    var host = "127.0.0.1"
    var port: Int
    /// Source addresses the connections are spread over (127.0.0.1 … 127.0.0.`sources`) when
    /// the node is on loopback: each source address has its own range of ephemeral ports.
    var sources = 4
    /// The most connections one event loop keeps open; a request that finds none free and
    /// cannot open one waits (and is counted late).
    var maxConnections = 4096
    /// Connections being opened at once, at most (the rest of the waiting requests wait for
    /// them or for a connection that becomes free, whichever comes first).
    var maxConnecting = 16
    /// Connections opened before the first request is due.
    var warmConnections = 32
    /// How long a request may wait for its answer (and a connection for its handshake).
    var timeout: TimeAmount = .seconds(5)
    /// A send later than this after its scheduled time counts as late.
    var lateBound: TimeAmount = .milliseconds(1)
    /// Local ports the client sockets take (Linux `IP_LOCAL_PORT_RANGE`), to keep clear of
    /// ports other processes on the machine listen on; nil: the system's ephemeral range.
    var localPorts: ClosedRange<Int>? = 40_001...60_999

    /// The source address of the `number`th connection, nil when the node is not on loopback.
    func source(_ number: Int) -> SocketAddress? {
        guard host == "127.0.0.1", sources > 1 else { return nil }
        return try? SocketAddress(ipAddress: "127.0.0.\(1 + number % sources)", port: 0)
    }
}
