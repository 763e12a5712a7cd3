import ArgumentParser
import Foundation
import NIOCore

/// The options `sockets` and `sockets-offline` share: the client side of the bench sockets.
struct SocketOptions: ParsableArguments {
    @Option(help: "IPv4 address of the nodes.") var host: String = "127.0.0.1"
    @Option(help: "The HS256 secret the sockets' tokens are signed with (default: $JWT_SECRET).")
    var secret: String?
    @Option(help: "Source addresses 127.0.0.<first-source> … the sockets are spread over (≈28,000 ports each).")
    var sources: Int = 8
    @Option(help: "The first source address's last byte.") var firstSource: Int = 2
    @Option(help: "Local ports of the client sockets (low-high; Linux 6.3+), or 'system'.")
    var localPorts: String = "40001-60999"
    @Option(help: "Event loops (threads) holding the sockets.") var threads: Int = 2
    @Option(help: "Sockets between connect and welcome at once, at most (and subscriptions awaiting their ok).")
    var window: Int = 512
    @Option(help: "Seconds a socket may take from connect to welcome (a subscription to its ok).")
    var timeout: Double = 30
    @Option(help: "Lifetime of the sockets' tokens, seconds (a socket closes when its token expires).")
    var tokenLifetime: Int = 86_400

    func validate() throws {
        guard sources > 0, firstSource > 0, firstSource + sources <= 255 else {
            throw ValidationError("--sources and --first-source must name addresses 127.0.0.1 … 127.0.0.254")
        }
        guard threads > 0, window > 0, timeout > 0 else {
            throw ValidationError("--threads, --window and --timeout must be positive")
        }
        guard localPorts == "system" || portRange != nil else {
            throw ValidationError("--local-ports takes low-high (e.g. 40001-60999) or 'system'")
        }
        guard signingSecret != nil else { throw ValidationError("--secret or JWT_SECRET is required") }
    }

    var signingSecret: String? { secret ?? ProcessInfo.processInfo.environment["JWT_SECRET"] }

    private var portRange: ClosedRange<Int>? {
        let bounds = localPorts.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] > 0, bounds[0] <= bounds[1], bounds[1] <= 65_535 else { return nil }
        return bounds[0]...bounds[1]
    }

    /// Client settings for sockets `<prefix><n>` on the node at `port`, `n` in `numbers`, with
    /// their tokens signed here.
    func settings(port: Int, prefix: String, numbers: Range<Int>, plan: SubscriptionPlan, targetPrefix: String)
        async throws -> SocketClientSettings
    {
        let tokens = try await SocketTokens.sign(
            prefix: prefix, numbers: numbers, secret: signingSecret ?? "", lifetime: tokenLifetime, issuers: threads)
        return SocketClientSettings(
            host: host, port: port, sources: sources, firstSource: firstSource, localPorts: portRange, prefix: prefix,
            tokens: tokens, tokenBase: numbers.lowerBound, plan: plan, targetPrefix: targetPrefix,
            timeout: .nanoseconds(Int64(timeout * 1e9)))
    }
}
