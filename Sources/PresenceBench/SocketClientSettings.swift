import NIOCore

/// What every bench socket of one run shares: where the node is, where the client sockets
/// come from, who the sockets are (user `<prefix><number>`, each with its own pre-signed
/// token) and whom each subscribes to.
struct SocketClientSettings: Sendable {
    /// The node's HTTP address (IPv4) and port.
    var host = "127.0.0.1"
    var port: Int
    /// Source addresses the sockets are spread over: 127.0.0.`firstSource` … (each has its own
    /// ephemeral ports: about 28,000 on one address), when the node is on loopback.
    var sources = 8
    var firstSource = 2
    /// Local ports of the client sockets (Linux `IP_LOCAL_PORT_RANGE`); nil: the system's range.
    var localPorts: ClosedRange<Int>? = 40_001...60_999
    /// User ids are `prefix0 …`; socket `n` is user `prefix<n>`, session `session`.
    var prefix: String
    var session = "s1"
    /// The token of socket `n` is `tokens[n - tokenBase]`.
    var tokens: [String]
    var tokenBase = 0
    /// Whom each socket subscribes to, and the prefix of their user ids.
    var plan = SubscriptionPlan.none
    var targetPrefix: String

    /// How long a socket may take from its connect to its welcome (and a subscription to its `ok`).
    var timeout: TimeAmount = .seconds(30)

    /// The source address of socket `number`, nil when the node is not on loopback.
    func source(_ number: Int) -> SocketAddress? {
        guard host == "127.0.0.1", sources > 0 else { return nil }
        return try? SocketAddress(ipAddress: "127.0.0.\(firstSource + number % sources)", port: 0)
    }

    /// The user numbers socket `number` subscribes to.
    func targets(of number: Int) -> [Int] { plan.targets(of: number) }
}
